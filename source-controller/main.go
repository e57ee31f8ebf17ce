// Command source-controller turns Git repositories, OCI artifacts and Helm repositories into
// versioned artifacts and serves them to the other controllers over HTTP.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/app"
	"weir.dev/source-controller/internal/chart"
	"weir.dev/source-controller/internal/controller"
	"weir.dev/source-controller/internal/helmrepo"
	"weir.dev/source-controller/internal/oci"
	"weir.dev/source-controller/internal/storage"
)

const controllerName = "source-controller"

// storageOptions are source-controller's artifact storage flags.
type storageOptions struct {
	path             string
	addr             string
	advertisedAddr   string
	retentionRecords int

	helmIndexMaxSize     int64
	helmChartMaxSize     int64
	helmChartFileMaxSize int64
	ociLayerMaxSize      int64
}

func (o *storageOptions) bindFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.path, "storage-path", "/data", "The directory artifacts are stored in.")
	fs.StringVar(&o.addr, "storage-addr", ":9090", "The address the artifact server binds to.")
	fs.StringVar(&o.advertisedAddr, "storage-adv-addr", "", "The host[:port] consumers fetch artifacts from; defaults to --storage-addr.")
	fs.IntVar(&o.retentionRecords, "artifact-retention-records", 2, "The number of artifacts kept per object.")
	fs.Int64Var(&o.helmIndexMaxSize, "helm-index-max-size", helmrepo.DefaultMaxIndexSize, "The largest Helm repository index.yaml downloaded, in bytes.")
	fs.Int64Var(&o.helmChartMaxSize, "helm-chart-max-size", chart.DefaultMaxSize, "The largest Helm chart, packaged or uncompressed, in bytes.")
	fs.Int64Var(&o.helmChartFileMaxSize, "helm-chart-file-max-size", chart.DefaultMaxFileSize, "The largest file in a Helm chart, in bytes.")
	fs.Int64Var(&o.ociLayerMaxSize, "oci-layer-max-size", oci.DefaultMaxLayerSize, "The largest OCI layer pulled, in bytes.")
}

func (o *storageOptions) validate() error {
	var errs []error
	if o.path == "" {
		errs = append(errs, errors.New("--storage-path: must not be empty"))
	}
	if o.addr == "" {
		errs = append(errs, errors.New("--storage-addr: must not be empty"))
	}
	if o.advertisedAddr != "" {
		if u, err := url.Parse("http://" + o.advertisedAddr); err != nil || u.Host != o.advertisedAddr {
			errs = append(errs, fmt.Errorf("--storage-adv-addr: must be host[:port], got %q", o.advertisedAddr))
		}
	}
	for flag, v := range map[string]int64{
		"--helm-index-max-size": o.helmIndexMaxSize, "--helm-chart-max-size": o.helmChartMaxSize,
		"--helm-chart-file-max-size": o.helmChartFileMaxSize, "--oci-layer-max-size": o.ociLayerMaxSize,
	} {
		if v < 1 {
			errs = append(errs, fmt.Errorf("%s: must be at least 1, got %d", flag, v))
		}
	}
	if o.retentionRecords < 1 {
		errs = append(errs, fmt.Errorf("--artifact-retention-records: must be at least 1, got %d", o.retentionRecords))
	}
	return errors.Join(errs...)
}

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(sourcev1.AddToScheme(s))
	return s
}

// setup creates the storage, the artifact server and the reconcilers.
func (o *storageOptions) setup(mgr ctrl.Manager, opts *app.Options, log logr.Logger) error {
	adv := o.advertisedAddr
	if adv == "" {
		adv = o.addr
		if strings.HasPrefix(adv, ":") {
			adv = "localhost" + adv
		}
	}
	store, err := storage.New(o.path, adv, o.retentionRecords)
	if err != nil {
		return fmt.Errorf("--storage-path: %w", err)
	}
	if err := mgr.Add(&artifactServer{addr: o.addr, handler: store.Handler(), log: log.WithName("artifact-server")}); err != nil {
		return err
	}
	recorder, err := opts.EventRecorder(mgr, controllerName)
	if err != nil {
		return err
	}
	intervals := opts.Intervals(log, recorder)
	ctx := context.Background()
	err = (&controller.GitRepositoryReconciler{
		Client:            mgr.GetClient(),
		EventRecorder:     recorder,
		Storage:           store,
		ControllerName:    controllerName,
		Intervals:         intervals,
		DependencyRequeue: 10 * time.Second,
	}).SetupWithManager(ctx, mgr, opts.Concurrent)
	if err != nil {
		return err
	}
	err = (&controller.OCIRepositoryReconciler{
		Client:         mgr.GetClient(),
		EventRecorder:  recorder,
		Storage:        store,
		ControllerName: controllerName,
		Intervals:      intervals,
		MaxLayerSize:   o.ociLayerMaxSize,
	}).SetupWithManager(mgr, opts.Concurrent)
	if err != nil {
		return err
	}
	err = (&controller.HelmRepositoryReconciler{
		Client:         mgr.GetClient(),
		EventRecorder:  recorder,
		Storage:        store,
		ControllerName: controllerName,
		Intervals:      intervals,
		MaxIndexSize:   o.helmIndexMaxSize,
	}).SetupWithManager(mgr, opts.Concurrent)
	if err != nil {
		return err
	}
	err = (&controller.ArtifactGeneratorReconciler{
		Client:            mgr.GetClient(),
		EventRecorder:     recorder,
		Storage:           store,
		ControllerName:    controllerName,
		Intervals:         intervals,
		DependencyRequeue: 10 * time.Second,
	}).SetupWithManager(ctx, mgr, opts.Concurrent)
	if err != nil {
		return err
	}
	return (&controller.HelmChartReconciler{
		Client:            mgr.GetClient(),
		EventRecorder:     recorder,
		Storage:           store,
		ControllerName:    controllerName,
		Intervals:         intervals,
		DependencyRequeue: 10 * time.Second,
		Limits:            chart.Limits{MaxSize: o.helmChartMaxSize, MaxFileSize: o.helmChartFileMaxSize},
	}).SetupWithManager(ctx, mgr, opts.Concurrent)
}

func main() {
	var storage storageOptions
	app.Main(app.Controller{
		Name:   controllerName,
		Scheme: newScheme(),
		Watched: []client.Object{
			&sourcev1.GitRepository{}, &sourcev1.OCIRepository{}, &sourcev1.HelmRepository{}, &sourcev1.HelmChart{},
			&sourcev1.ArtifactGenerator{},
		},
		BindFlags: storage.bindFlags,
		Validate:  storage.validate,
		Setup:     storage.setup,
	})
}
