// Command notification-controller routes the other controllers' events to chat, webhooks and Git commit statuses, and turns incoming webhooks into reconcile requests.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/fluxcd/pkg/runtime/events"
	"github.com/go-logr/logr"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlcontroller "sigs.k8s.io/controller-runtime/pkg/controller"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	notificationv1 "weir.dev/api/notification/v1"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/notification-controller/internal/controller"
	"weir.dev/notification-controller/internal/egress"
	"weir.dev/notification-controller/internal/provider"
	"weir.dev/notification-controller/internal/receiver"
	"weir.dev/notification-controller/internal/server"
	"weir.dev/pkg/app"
)

const controllerName = "notification-controller"

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(notificationv1.AddToScheme(s))
	// The kinds whose events are routed and which Receivers reconcile.
	utilruntime.Must(sourcev1.AddToScheme(s))
	utilruntime.Must(kustomizev1.AddToScheme(s))
	utilruntime.Must(helmv1.AddToScheme(s))
	return s
}

// flags are notification-controller's own flags.
type flags struct {
	eventsAddr           string
	receiverAddr         string
	noCrossNamespaceRefs bool
	dedupWindow          time.Duration
	eventsRateLimit      float64
	// allowInternal and internalCIDRs make the egress policy of notifications.
	allowInternal bool
	internalCIDRs []string
}

func (f *flags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.eventsAddr, "events-listen-addr", ":9090", "The address the events endpoint binds to.")
	fs.StringVar(&f.receiverAddr, "receiver-addr", ":9292", "The address the webhook receiver endpoint binds to.")
	fs.BoolVar(&f.noCrossNamespaceRefs, "no-cross-namespace-refs", false,
		"Refuse Alert event sources and Receiver resources in another namespace than the object's.")
	fs.DurationVar(&f.dedupWindow, "events-dedup-window", 5*time.Minute,
		"Events equal to one received within this window are dropped as duplicates; 0 keeps them all.")
	fs.Float64Var(&f.eventsRateLimit, "events-rate-limit", 200,
		"The most events a second the events endpoint takes (bursts of twice that); 0 for no limit.")
	fs.BoolVar(&f.allowInternal, strings.TrimPrefix(egress.AllowInternalFlag, "--"), false,
		"Let notifications reach cluster-internal addresses: loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7), "+
			"shared (100.64/10) and --internal-cidrs. Link-local and cloud metadata addresses are refused regardless.")
	fs.StringSliceVar(&f.internalCIDRs, "internal-cidrs", nil,
		"More CIDRs to treat as cluster-internal, e.g. the cluster's service and pod CIDRs when outside the private ranges.")
}

// egressPolicy is where notifications may connect, from the flags and the environment's proxies.
func (f *flags) egressPolicy() *egress.Policy {
	p := &egress.Policy{AllowInternal: f.allowInternal, TrustedProxies: egress.EnvironmentProxies(os.Getenv)}
	for _, c := range f.internalCIDRs {
		if pr, err := netip.ParsePrefix(c); err == nil {
			p.InternalPrefixes = append(p.InternalPrefixes, pr.Masked())
		}
	}
	return p
}

func (f *flags) validate() error {
	var errs []error
	for name, addr := range map[string]string{"events-listen-addr": f.eventsAddr, "receiver-addr": f.receiverAddr} {
		if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
			errs = append(errs, fmt.Errorf("--%s: must be host:port or :port, got %q", name, addr))
		}
	}
	if f.dedupWindow < 0 {
		errs = append(errs, fmt.Errorf("--events-dedup-window: must not be negative"))
	}
	for _, c := range f.internalCIDRs {
		if _, err := netip.ParsePrefix(c); err != nil {
			errs = append(errs, fmt.Errorf("--internal-cidrs: %q is not a CIDR", c))
		}
	}
	if f.eventsRateLimit < 0 {
		errs = append(errs, fmt.Errorf("--events-rate-limit: must not be negative"))
	}
	return errors.Join(errs...)
}

// setup registers the three reconcilers and the two servers.
func (f *flags) setup(mgr ctrl.Manager, opts *app.Options, log logr.Logger) error {
	recorder, err := events.NewRecorder(log, "", controllerName, events.WithManager(mgr))
	if err != nil {
		return err
	}
	intervals := opts.Intervals(log, recorder)
	clients := provider.NewClients(f.egressPolicy())
	copts := ctrlcontroller.Options{MaxConcurrentReconciles: opts.Concurrent}
	if err := (&controller.ProviderReconciler{Client: mgr.GetClient(), EventRecorder: recorder, Intervals: intervals, Clients: clients}).
		SetupWithManager(mgr, copts); err != nil {
		return fmt.Errorf("Provider controller: %w", err)
	}
	if err := (&controller.AlertReconciler{Client: mgr.GetClient(), EventRecorder: recorder, Intervals: intervals, NoCrossNamespaceRefs: f.noCrossNamespaceRefs}).
		SetupWithManager(mgr, copts); err != nil {
		return fmt.Errorf("Alert controller: %w", err)
	}
	if err := (&controller.ReceiverReconciler{Client: mgr.GetClient(), EventRecorder: recorder, Intervals: intervals, NoCrossNamespaceRefs: f.noCrossNamespaceRefs}).
		SetupWithManager(mgr, copts); err != nil {
		return fmt.Errorf("Receiver controller: %w", err)
	}
	if err := server.IndexWebhookPath(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return err
	}
	if err := mgr.Add(server.NewEventServer(server.EventServerOptions{
		Addr:           f.eventsAddr,
		Client:         mgr.GetClient(),
		Clients:        clients,
		CrossNamespace: !f.noCrossNamespaceRefs,
		DedupWindow:    f.dedupWindow,
		RateLimit:      f.eventsRateLimit,
		Log:            log.WithName("events"),
	})); err != nil {
		return err
	}
	return mgr.Add(server.NewReceiverServer(server.ReceiverServerOptions{
		Addr:           f.receiverAddr,
		Client:         mgr.GetClient(),
		Reader:         mgr.GetAPIReader(),
		CrossNamespace: !f.noCrossNamespaceRefs,
		// ID token issuers are reached under the same egress policy as notifications.
		IDTokens: receiver.NewIDTokens(clients.Get(provider.Transport{})),
		Log:      log.WithName("receiver"),
	}))
}

func main() {
	var f flags
	app.Main(app.Controller{
		Name:      controllerName,
		Scheme:    newScheme(),
		Watched:   []client.Object{&notificationv1.Provider{}, &notificationv1.Alert{}, &notificationv1.Receiver{}},
		BindFlags: f.bind,
		Validate:  f.validate,
		Setup:     f.setup,
	})
}
