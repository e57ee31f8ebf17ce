// Command helm-controller installs, upgrades and uninstalls HelmReleases from chart artifacts,
// with the Helm SDK in process.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/helm-controller/internal/controller"
	"weir.dev/pkg/app"
	"weir.dev/pkg/artifact"
	"weir.dev/pkg/identity"
)

const controllerName = "helm-controller"

// Limits of a chart artifact: the packaged chart, and the chart extracted.
const (
	maxChartDownloadSize int64 = 64 << 20
	maxChartSize         int64 = 256 << 20
	maxChartFiles              = 20_000
)

// options are helm-controller's own flags.
type options struct {
	artifactHost           string
	noCrossNamespaceRefs   bool
	defaultSA              string
	insecureKubeConfigExec bool
}

func (o *options) bindFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.artifactHost, "artifact-host", "", "The host[:port] chart artifacts are fetched from: source-controller's --storage-adv-addr. Defaults to source-controller.$RUNTIME_NAMESPACE.svc.cluster.local.")
	fs.BoolVar(&o.noCrossNamespaceRefs, "no-cross-namespace-refs", false, "Refuse chart sources and dependencies in another namespace than the HelmRelease's.")
	fs.BoolVar(&o.insecureKubeConfigExec, "insecure-kubeconfig-exec", false, "Allow exec and auth-provider plugins in spec.kubeConfig kubeconfigs; they run programs inside this controller.")
	fs.StringVar(&o.defaultSA, "default-service-account", "", "The ServiceAccount, in each HelmRelease's namespace, to impersonate when spec.serviceAccountName is empty.")
}

func (o *options) validate() error {
	if o.artifactHost == "" {
		ns := os.Getenv("RUNTIME_NAMESPACE")
		if ns == "" {
			ns = "weir-system"
		}
		o.artifactHost = fmt.Sprintf("source-controller.%s.svc.cluster.local.", ns)
	}
	if o.artifactHost[0] == ':' {
		return errors.New("--artifact-host: must be host[:port]")
	}
	return nil
}

func (o *options) setup(mgr ctrl.Manager, opts *app.Options, _ logr.Logger) error {
	recorder, err := opts.EventRecorder(mgr, controllerName)
	if err != nil {
		return err
	}
	return (&controller.HelmReleaseReconciler{
		Client:         mgr.GetClient(),
		APIReader:      mgr.GetAPIReader(),
		EventRecorder:  recorder,
		ControllerName: controllerName,
		Fetcher: &artifact.Fetcher{
			AllowedHost:     o.artifactHost,
			Retries:         3,
			MaxDownloadSize: maxChartDownloadSize,
			Limits:          artifact.Limits{MaxFiles: maxChartFiles, MaxSize: maxChartSize},
		},
		Identities: &identity.Resolver{
			Config: mgr.GetConfig(), Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper(), Reader: mgr.GetAPIReader(),
			DefaultServiceAccount: o.defaultSA, InsecureKubeConfigExec: o.insecureKubeConfigExec,
		},
		NoCrossNamespaceRefs: o.noCrossNamespaceRefs,
		DependencyRequeue:    10 * time.Second,
	}).SetupWithManager(context.Background(), mgr, opts.Concurrent)
}

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(sourcev1.AddToScheme(s))
	utilruntime.Must(kustomizev1.AddToScheme(s))
	utilruntime.Must(helmv1.AddToScheme(s))
	return s
}

func main() {
	var o options
	app.Main(app.Controller{
		Name:      controllerName,
		Scheme:    newScheme(),
		Watched:   []client.Object{&helmv1.HelmRelease{}},
		BindFlags: o.bindFlags,
		Validate:  o.validate,
		Setup:     o.setup,
	})
}
