// Command kustomize-controller builds Kustomizations from source artifacts and applies them to the cluster with server-side apply, pruning and health checks.
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

	kustomizev1 "weir.dev/api/kustomize/v1"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/kustomize-controller/internal/controller"
	"weir.dev/pkg/app"
	"weir.dev/pkg/artifact"
	"weir.dev/pkg/identity"
)

const controllerName = "kustomize-controller"

// options are kustomize-controller's own flags.
type options struct {
	artifactHost           string
	noCrossNamespaceRefs   bool
	noRemoteBases          bool
	defaultSA              string
	insecureKubeConfigExec bool
}

func (o *options) bindFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.artifactHost, "artifact-host", "", "The host[:port] artifacts are fetched from: source-controller's --storage-adv-addr. Defaults to source-controller.$RUNTIME_NAMESPACE.svc.cluster.local.")
	fs.BoolVar(&o.noCrossNamespaceRefs, "no-cross-namespace-refs", false, "Refuse sources and dependencies in another namespace than the Kustomization's.")
	fs.BoolVar(&o.noRemoteBases, "no-remote-bases", false, "Refuse remote kustomize bases; builds use only the source artifact.")
	fs.BoolVar(&o.insecureKubeConfigExec, "insecure-kubeconfig-exec", false, "Allow exec and auth-provider plugins in spec.kubeConfig kubeconfigs; they run programs inside this controller.")
	fs.StringVar(&o.defaultSA, "default-service-account", "", "The ServiceAccount, in each Kustomization's namespace, to impersonate when spec.serviceAccountName is empty.")
}

func (o *options) validate() error {
	if o.artifactHost == "" {
		ns := os.Getenv("RUNTIME_NAMESPACE")
		if ns == "" {
			ns = "weir-system"
		}
		o.artifactHost = fmt.Sprintf("source-controller.%s.svc.cluster.local.", ns)
	}
	if o.artifactHost == "" || o.artifactHost[0] == ':' {
		return errors.New("--artifact-host: must be host[:port]")
	}
	return nil
}

func (o *options) setup(mgr ctrl.Manager, opts *app.Options, _ logr.Logger) error {
	recorder, err := opts.EventRecorder(mgr, controllerName)
	if err != nil {
		return err
	}
	direct, err := client.New(mgr.GetConfig(), client.Options{Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper()})
	if err != nil {
		return err
	}
	return (&controller.KustomizationReconciler{
		SecretReader:         direct,
		Client:               mgr.GetClient(),
		EventRecorder:        recorder,
		ControllerName:       controllerName,
		Fetcher:              &artifact.Fetcher{AllowedHost: o.artifactHost, Retries: 3},
		NoCrossNamespaceRefs: o.noCrossNamespaceRefs,
		NoRemoteBases:        o.noRemoteBases,
		Identities: &identity.Resolver{
			Config: mgr.GetConfig(), Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper(), Reader: mgr.GetAPIReader(),
			DefaultServiceAccount: o.defaultSA, InsecureKubeConfigExec: o.insecureKubeConfigExec,
		},
		DependencyRequeue: 10 * time.Second,
	}).SetupWithManager(context.Background(), mgr, opts.Concurrent)
}

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(sourcev1.AddToScheme(s))
	utilruntime.Must(kustomizev1.AddToScheme(s))
	return s
}

func main() {
	var o options
	app.Main(app.Controller{
		Name:      controllerName,
		Scheme:    newScheme(),
		Watched:   []client.Object{&kustomizev1.Kustomization{}},
		BindFlags: o.bindFlags,
		Validate:  o.validate,
		Setup:     o.setup,
	})
}
