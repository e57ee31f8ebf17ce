package app

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/fluxcd/pkg/runtime/jitter"
	"github.com/go-logr/logr"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client/config"
)

// Options are the flags every Weir controller has.
type Options struct {
	// MetricsAddr is where Prometheus metrics are served (--metrics-addr); "0" disables them.
	MetricsAddr string
	// HealthAddr is where /healthz and /readyz are served (--health-addr).
	HealthAddr string
	// PprofAddr is where Go's profiles are served under /debug/pprof/ (--pprof-addr); empty
	// or "0" disables them.
	PprofAddr string
	// LeaderElection enables leader election (--enable-leader-election).
	LeaderElection bool
	// LeaseDuration is how long a standby waits after the leader's last renewal before it takes
	// the lease (--leader-election-lease-duration); a whole number of seconds, as the Lease
	// stores it.
	LeaseDuration time.Duration
	// RenewDeadline is how long the leader keeps retrying to renew before it gives up leading
	// (--leader-election-renew-deadline); shorter than LeaseDuration.
	RenewDeadline time.Duration
	// RetryPeriod is the interval between attempts to acquire or renew the lease
	// (--leader-election-retry-period); RenewDeadline exceeds 1.2 times it (client-go's jitter).
	RetryPeriod time.Duration
	// Concurrent is the number of objects of each kind reconciled at once (--concurrent).
	Concurrent int
	// LogLevel is one of trace, debug, info, error (--log-level).
	LogLevel string
	// LogEncoding is json or console (--log-encoding).
	LogEncoding string
	// EventsAddr is the notification-controller URL events are POSTed to (--events-addr);
	// empty means Kubernetes Events only.
	EventsAddr string
	// WatchLabelSelector restricts the controller to objects matching it (--watch-label-selector),
	// so several shards can share a cluster.
	WatchLabelSelector string
	// KubeAPIQPS and KubeAPIBurst limit requests to the API server on the client side
	// (--kube-api-qps, --kube-api-burst). A negative QPS turns the client-side limit off and
	// leaves protection to the API server's priority and fairness.
	KubeAPIQPS   float32
	KubeAPIBurst int
	// MinInterval is the floor of the intervals objects ask for (--min-interval): a shorter
	// spec.interval or retry interval is reconciled at the floor, and the object is told so.
	// 0 means no floor.
	MinInterval time.Duration
	// MaxReconcileDuration is how long a reconcile may run before /healthz fails
	// (--healthz-max-reconcile-duration); 0 disables the check.
	MaxReconcileDuration time.Duration
	// IntervalJitter spreads periodic requeues by ±its percentage (--interval-jitter-percentage,
	// Flux's flag and default of 5).
	IntervalJitter jitter.IntervalOptions
}

// BindFlags adds the common flags, with their defaults, to fs. It also adds controller-runtime's
// --kubeconfig flag.
func (o *Options) BindFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.MetricsAddr, "metrics-addr", ":8080", "The address the Prometheus metrics endpoint binds to; 0 disables it.")
	fs.StringVar(&o.HealthAddr, "health-addr", ":9440", "The address the /healthz and /readyz endpoints bind to.")
	fs.StringVar(&o.PprofAddr, "pprof-addr", "", "The address Go's profiling endpoints (/debug/pprof/) bind to, e.g. 127.0.0.1:6060; empty disables them.")
	fs.BoolVar(&o.LeaderElection, "enable-leader-election", false, "Elect a leader so that only one replica reconciles at a time.")
	fs.DurationVar(&o.LeaseDuration, "leader-election-lease-duration", DefaultLeaseDuration, "How long a standby waits after the leader's last renewal before it takes over; whole seconds.")
	fs.DurationVar(&o.RenewDeadline, "leader-election-renew-deadline", DefaultRenewDeadline, "How long the leader retries renewing its lease, e.g. through an API server stall, before it stops leading and runs for election again.")
	fs.DurationVar(&o.RetryPeriod, "leader-election-retry-period", DefaultRetryPeriod, "The interval between attempts to acquire or renew the leader lease.")
	fs.IntVar(&o.Concurrent, "concurrent", 4, "The number of objects of each kind reconciled concurrently.")
	fs.StringVar(&o.LogLevel, "log-level", "info", "Log verbosity: trace, debug, info or error.")
	fs.StringVar(&o.LogEncoding, "log-encoding", "json", "Log encoding: json or console.")
	fs.StringVar(&o.EventsAddr, "events-addr", "", "The notification-controller URL to POST events to; empty for Kubernetes Events only.")
	fs.StringVar(&o.WatchLabelSelector, "watch-label-selector", "", "Reconcile only objects whose labels match this selector, e.g. 'sharding.weir.dev/key=shard1'.")
	fs.Float32Var(&o.KubeAPIQPS, "kube-api-qps", 500, "Client-side limit of requests per second to the API server; negative turns it off.")
	fs.IntVar(&o.KubeAPIBurst, "kube-api-burst", 1000, "Client-side burst of requests to the API server.")
	fs.DurationVar(&o.MinInterval, "min-interval", DefaultMinInterval, "The shortest interval an object is reconciled at: a shorter spec.interval or retry interval is raised to it, "+
		"with a warning event and a log line naming the object; 0 for no floor.")
	fs.DurationVar(&o.MaxReconcileDuration, "healthz-max-reconcile-duration", DefaultMaxReconcileDuration,
		"/healthz fails while a reconcile has run longer than this, so that a process whose workers hang is restarted; keep it above every object's spec.timeout; 0 disables.")
	o.IntervalJitter.BindFlags(fs)
	fs.Lookup("interval-jitter-percentage").Usage = "Spread each periodic requeue over ± this percentage of the object's interval, never below --min-interval, " +
		"so that objects do not reconcile in lockstep; 0 for none, less than 100. Retries after errors are not spread."

	gofs := flag.NewFlagSet("", flag.ContinueOnError)
	config.RegisterFlags(gofs)
	fs.AddGoFlagSet(gofs)
}

// Validate checks the values of the common flags and returns one error naming each bad flag.
func (o *Options) Validate() error {
	var errs []error
	bad := func(flag, format string, args ...any) {
		errs = append(errs, fmt.Errorf("--%s: %s", flag, fmt.Sprintf(format, args...)))
	}
	if o.MetricsAddr != "0" {
		if err := checkListenAddr(o.MetricsAddr); err != nil {
			bad("metrics-addr", "%v", err)
		}
	}
	if err := checkListenAddr(o.HealthAddr); err != nil {
		bad("health-addr", "%v", err)
	}
	if o.PprofAddr != "" && o.PprofAddr != "0" {
		if err := checkListenAddr(o.PprofAddr); err != nil {
			bad("pprof-addr", "%v", err)
		}
	}
	o.validateLeaderElection(bad)
	if o.Concurrent < 1 {
		bad("concurrent", "must be at least 1, got %d", o.Concurrent)
	}
	switch o.LogLevel {
	case "trace", "debug", "info", "error":
	default:
		bad("log-level", "must be one of trace, debug, info, error; got %q", o.LogLevel)
	}
	switch o.LogEncoding {
	case "json", "console":
	default:
		bad("log-encoding", "must be json or console; got %q", o.LogEncoding)
	}
	if o.EventsAddr != "" {
		u, err := url.Parse(o.EventsAddr)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("events-addr", "must be an http(s) URL such as http://notification-controller.weir-system.svc.cluster.local./")
		} else if u.User != nil {
			bad("events-addr", "must not carry credentials")
		}
	}
	if _, err := o.Selector(); err != nil {
		bad("watch-label-selector", "%v", err)
	}
	if o.MaxReconcileDuration < 0 {
		bad("healthz-max-reconcile-duration", "must not be negative, got %s", o.MaxReconcileDuration)
	}
	if o.MinInterval < 0 {
		bad("min-interval", "must not be negative, got %s", o.MinInterval)
	}
	if o.IntervalJitter.Percentage >= 100 {
		bad("interval-jitter-percentage", "must be less than 100, got %d", o.IntervalJitter.Percentage)
	}
	if o.KubeAPIBurst < 1 && o.KubeAPIQPS >= 0 {
		bad("kube-api-burst", "must be at least 1 while --kube-api-qps limits requests, got %d", o.KubeAPIBurst)
	}
	return errors.Join(errs...)
}

// Intervals returns the policy of --min-interval and --interval-jitter-percentage for one
// controller's reconcilers, announcing raised intervals through log and rec.
func (o *Options) Intervals(log logr.Logger, rec events.EventRecorder) *Intervals {
	return NewIntervals(o.MinInterval, o.IntervalJitter.Percentage, log.WithName("intervals"), rec)
}

// Selector returns the parsed --watch-label-selector; labels.Everything() when it is empty.
func (o *Options) Selector() (labels.Selector, error) {
	if strings.TrimSpace(o.WatchLabelSelector) == "" {
		return labels.Everything(), nil
	}
	return labels.Parse(o.WatchLabelSelector)
}

func checkListenAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("must be host:port or :port, got %q", addr)
	}
	if host != "" && net.ParseIP(host) == nil && host != "localhost" {
		return fmt.Errorf("host %q must be an IP address or localhost", host)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q must be a number from 0 to 65535", port)
	}
	return nil
}
