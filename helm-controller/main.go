// Command helm-controller installs, upgrades and uninstalls HelmReleases from chart artifacts,
// with the Helm SDK in process.
package main

import (
	"context"
	"errors"
	"maps"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/helm-controller/internal/controller"
	"weir.dev/pkg/app"
	"weir.dev/pkg/artifact"
	"weir.dev/pkg/configwatch"
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
	app.ApplierOptions
	maxObjects int
}

func (o *options) bindFlags(fs *pflag.FlagSet) {
	o.ApplierOptions.BindFlags(fs, "HelmRelease")
	fs.IntVar(&o.maxObjects, "max-objects-per-unit", controller.DefaultMaxObjects,
		"The most objects one HelmRelease's rendered manifest may hold; a larger one is refused (TooManyObjects) before install or upgrade.")
}

// validate checks the flags.
func (o *options) validate() error {
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
	return (&controller.HelmReleaseReconciler{
		Client:         mgr.GetClient(),
		APIReader:      mgr.GetAPIReader(),
		EventRecorder:  recorder,
		ControllerName: controllerName,
		Fetcher: &artifact.Fetcher{
			AllowedHost:     o.ArtifactHost,
			Retries:         3,
			MaxDownloadSize: maxChartDownloadSize,
			Limits:          artifact.Limits{MaxFiles: maxChartFiles, MaxSize: maxChartSize},
		},
		Identities:           o.Identities(mgr),
		NoCrossNamespaceRefs: o.NoCrossNamespaceRefs,
		DependencyRequeue:    10 * time.Second,
		MaxObjects:           o.maxObjects,
		Intervals:            opts.Intervals(log, recorder),
		Backoff:              o.Backoff(),
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
		Cached:    cacheOptions(), // labelled ConfigMaps and Secrets as metadata; Kustomizations trimmed
		BindFlags: o.bindFlags,
		Validate:  o.validate,
		Setup:     o.setup,
		// An install or upgrade mostly waits: on the chart download, the API server and, by
		// default, the release's resources becoming ready. Ten at once keep a fleet of
		// releases moving.
		DefaultConcurrent: 10,
	})
}

func cacheOptions() map[client.Object]cache.ByObject {
	opts := configwatch.CacheOptions()
	maps.Copy(opts, controller.CacheOptions())
	return opts
}
