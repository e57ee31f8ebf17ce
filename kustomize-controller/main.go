// Command kustomize-controller builds Kustomizations from source artifacts and applies them to the cluster with server-side apply, pruning and health checks.
package main

import (
	"context"
	"errors"
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
	setsv1 "weir.dev/api/sets/v1"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/kustomize-controller/internal/controller"
	"weir.dev/pkg/app"
	"weir.dev/pkg/artifact"
	"weir.dev/pkg/configwatch"
)

// controllerName is also the field manager of every apply. It is Flux's kustomize-controller's
// too, on purpose: a cluster migrated from Flux is adopted by applying as the same manager, so
// the fields Flux applied become Weir's without a conflict or a second owner (see
// docs/migrating-from-flux.md and TestAdoptFluxObjects). Do not rename it.
const controllerName = "kustomize-controller"

// options are kustomize-controller's own flags.
type options struct {
	app.ApplierOptions
	allowRemoteBases bool
	noRemoteBases    bool // deprecated: refusing is the default
	maxObjects       int
	allowShared      bool
}

func (o *options) bindFlags(fs *pflag.FlagSet) {
	o.ApplierOptions.BindFlags(fs, "Kustomization")
	fs.BoolVar(&o.allowRemoteBases, "allow-remote-bases", false,
		"Let builds fetch remote kustomize resources (http(s) files, Git bases over http(s)), bounded in time and size; off, a remote reference fails the build.")
	fs.BoolVar(&o.noRemoteBases, "no-remote-bases", false, "Refuse remote kustomize bases (the default).")
	fs.IntVar(&o.maxObjects, "max-objects-per-unit", controller.DefaultMaxObjects,
		"The most objects one Kustomization may build; a larger build is refused (TooManyObjects) before anything is applied.")
	fs.BoolVar(&o.allowShared, "allow-shared-objects", false,
		"Let a Kustomization apply objects another Kustomization or a HelmRelease still owns, taking them over at each run; off, it is refused (OwnershipConflict) unless the object is annotated kustomize.weir.dev/ownership: shared.")
	_ = fs.MarkDeprecated("no-remote-bases", "remote bases are refused by default; --allow-remote-bases enables them")
}

// validate checks the flags: --no-remote-bases contradicts --allow-remote-bases.
func (o *options) validate() error {
	if o.allowRemoteBases && o.noRemoteBases {
		return errors.New("--allow-remote-bases and --no-remote-bases cannot be combined")
	}
	if o.maxObjects < 1 {
		return errors.New("--max-objects-per-unit must be at least 1")
	}
	return o.ApplierOptions.Validate()
}

func (o *options) setup(mgr ctrl.Manager, opts *app.Options, log logr.Logger) error {
	recorder, err := opts.EventRecorder(mgr, controllerName)
	if err != nil {
		return err
	}
	direct, err := client.New(mgr.GetConfig(), client.Options{Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper()})
	if err != nil {
		return err
	}
	ks := &controller.KustomizationReconciler{
		SecretReader:         direct,
		Client:               mgr.GetClient(),
		EventRecorder:        recorder,
		ControllerName:       controllerName,
		Fetcher:              &artifact.Fetcher{AllowedHost: o.ArtifactHost, Retries: 3},
		NoCrossNamespaceRefs: o.NoCrossNamespaceRefs,
		AllowRemoteBases:     o.allowRemoteBases,
		MaxObjects:           o.maxObjects,
		AllowSharedObjects:   o.allowShared,
		OwnerReader:          direct,
		Identities:           o.Identities(mgr),
		DependencyRequeue:    10 * time.Second,
		Intervals:            opts.Intervals(log, recorder),
		Backoff:              o.Backoff(),
	}
	if err := ks.SetupWithManager(context.Background(), mgr, opts.Concurrent); err != nil {
		return err
	}
	return o.setupSets(mgr, opts, log, ks)
}

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(sourcev1.AddToScheme(s))
	utilruntime.Must(kustomizev1.AddToScheme(s))
	utilruntime.Must(setsv1.AddToScheme(s))
	utilruntime.Must(helmv1.AddToScheme(s))
	return s
}

func main() {
	var o options
	app.Main(app.Controller{
		Name:      controllerName,
		Scheme:    newScheme(),
		Watched:   []client.Object{&kustomizev1.Kustomization{}, &setsv1.ResourceSet{}},
		Cached:    configwatch.CacheOptions(), // labelled ConfigMaps and Secrets, metadata only
		BindFlags: o.bindFlags,
		Validate:  o.validate,
		Setup:     o.setup,
		// A reconcile mostly waits on the API server (reads, dry runs, applies), and one that
		// changes nothing costs about a millisecond of CPU: ten at once keep a fan-out moving
		// without loading the API server beyond what priority and fairness admit.
		DefaultConcurrent: 10,
	})
}
