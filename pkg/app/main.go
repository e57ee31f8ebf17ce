package app

import (
	"fmt"
	"os"
	"strconv"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Controller describes one controller binary for Main.
type Controller struct {
	// Name is the binary's name; it is also the leader-election ID's prefix and the user agent.
	Name string
	// Scheme holds every kind the controller reads or writes.
	Scheme *runtime.Scheme
	// Watched are the controller's own kinds, the ones --watch-label-selector filters.
	Watched []client.Object
	// Cached restricts the cache of other kinds, e.g. ConfigMaps and Secrets to the labelled
	// ones (configwatch.CacheOptions).
	Cached map[client.Object]cache.ByObject
	// BindFlags, if set, adds the controller's own flags.
	BindFlags func(fs *pflag.FlagSet)
	// Validate, if set, checks the controller's own flags after parsing.
	Validate func() error
	// DefaultConcurrent, if set, replaces the default of --concurrent (4).
	DefaultConcurrent int
	// Setup, if set, registers the reconcilers and servers with the manager. It runs again for
	// each fresh manager after a lost leader election, so whatever it starts must be a runnable
	// of mgr (stopped with it) and whatever it registers must be per manager.
	Setup func(mgr ctrl.Manager, opts *Options, log logr.Logger) error
}

// Main runs the controller: it parses os.Args, exits 2 with a message naming each bad flag,
// builds the manager, runs Setup and blocks until SIGTERM or SIGINT. When the manager loses the
// leader election (the API server did not answer renewals within the renew deadline), Main
// builds a fresh manager, runs Setup on it again and runs for election again, with a growing
// delay; Setup must therefore be callable more than once. It exits 1 when the first manager
// cannot start or stops with any other error, or when fresh managers keep failing.
func Main(c Controller) {
	var opts Options
	fs := pflag.NewFlagSet(c.Name, pflag.ContinueOnError)
	fs.SortFlags = true
	opts.BindFlags(fs)
	if c.DefaultConcurrent > 0 {
		f := fs.Lookup("concurrent")
		f.DefValue = strconv.Itoa(c.DefaultConcurrent)
		_ = f.Value.Set(f.DefValue)
	}
	validate := []func() error{opts.Validate}
	if c.BindFlags != nil {
		c.BindFlags(fs)
	}
	if c.Validate != nil {
		validate = append(validate, c.Validate)
	}
	if err := Parse(fs, os.Args[1:], validate...); err != nil {
		Fatal(c.Name, err)
	}

	log := opts.Logger().WithName(c.Name)
	build := func(again bool) (ctrl.Manager, error) {
		mgr, err := opts.newManager(c.Name, c.Scheme, again, c.Cached, c.Watched...)
		if err != nil {
			return nil, err
		}
		if c.Setup != nil {
			if err := c.Setup(mgr, &opts, log); err != nil {
				return nil, fmt.Errorf("setting up the controller: %w", err)
			}
		}
		return mgr, nil
	}
	log.Info("starting", "version", Version, "metrics", opts.MetricsAddr, "health", opts.HealthAddr, "leaderElection", opts.LeaderElection)
	if err := defaultRestarter.run(ctrl.SetupSignalHandler(), log, build); err != nil {
		log.Error(err, "manager stopped with an error")
		os.Exit(1)
	}
	log.Info("stopped")
}
