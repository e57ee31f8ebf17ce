package app

import (
	"errors"
	"fmt"
	"maps"
	"os"

	"github.com/fluxcd/pkg/runtime/logger"
	"github.com/go-logr/logr"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// ErrHelp is returned by Parse when --help was asked for; the usage has been printed.
var ErrHelp = pflag.ErrHelp

// Parse parses args into fs and runs each validate function, joining their errors.
func Parse(fs *pflag.FlagSet, args []string, validate ...func() error) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	var errs []error
	for _, v := range validate {
		errs = append(errs, v())
	}
	return errors.Join(errs...)
}

// Fatal prints err for a flag problem and exits: 0 for --help, 2 otherwise.
func Fatal(name string, err error) {
	if errors.Is(err, ErrHelp) {
		os.Exit(0)
	}
	fmt.Fprintf(os.Stderr, "%s: invalid command line:\n%v\nRun '%s --help' for the flags.\n", name, err, name)
	os.Exit(2)
}

// Logger returns the process logger configured by --log-level and --log-encoding and installs it
// for controller-runtime and klog.
func (o *Options) Logger() logr.Logger {
	log := logger.NewLogger(logger.Options{LogLevel: o.LogLevel, LogEncoding: o.LogEncoding})
	logger.SetLogger(log)
	return log
}

// NewManager returns a controller-runtime manager for the controller called name, with the
// metrics, health and leader-election settings of o. The --watch-label-selector applies to
// the objects in watched; other kinds are cached unfiltered.
func (o *Options) NewManager(name string, scheme *runtime.Scheme, watched ...client.Object) (ctrl.Manager, error) {
	return o.newManager(name, scheme, false, nil, watched...)
}

// newManager is NewManager; again is true for a manager that replaces one of this process, whose
// controllers keep their names (controller-runtime otherwise refuses a name it has seen), and
// cached restricts the cache of other kinds.
func (o *Options) newManager(name string, scheme *runtime.Scheme, again bool, cached map[client.Object]cache.ByObject, watched ...client.Object) (ctrl.Manager, error) {
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return nil, fmt.Errorf("loading the kubeconfig: %w", err)
	}
	cfg.QPS = o.KubeAPIQPS
	cfg.Burst = o.KubeAPIBurst
	cfg.UserAgent = name

	selector, err := o.Selector()
	if err != nil {
		return nil, err
	}
	byObject := maps.Clone(cached)
	if byObject == nil {
		byObject = map[client.Object]cache.ByObject{}
	}
	for _, obj := range watched {
		byObject[obj] = cache.ByObject{Label: selector}
	}

	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        scheme,
		Metrics:                       metricsserver.Options{BindAddress: o.MetricsAddr},
		HealthProbeBindAddress:        o.HealthAddr,
		PprofBindAddress:              o.PprofAddr,
		LeaderElection:                o.LeaderElection,
		LeaderElectionID:              leaderElectionID(name, o.WatchLabelSelector),
		LeaderElectionNamespace:       os.Getenv("RUNTIME_NAMESPACE"),
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 &o.LeaseDuration,
		RenewDeadline:                 &o.RenewDeadline,
		RetryPeriod:                   &o.RetryPeriod,
		Controller:                    config.Controller{SkipNameValidation: &again},
		Cache:                         cache.Options{ByObject: byObject},
	})
	if err != nil {
		return nil, fmt.Errorf("creating the manager: %w", err)
	}
	lease := client.ObjectKey{Namespace: os.Getenv("RUNTIME_NAMESPACE"), Name: leaderElectionID(name, o.WatchLabelSelector)}
	if err := addProbes(mgr, o.LeaderElection, lease, o.MaxReconcileDuration, watched); err != nil {
		return nil, err
	}
	return mgr, nil
}
