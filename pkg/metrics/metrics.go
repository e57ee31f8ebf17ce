package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Label values of the counters.
const (
	// ResultSuccess and ResultFailure are the results of a Helm action.
	ResultSuccess = "success"
	ResultFailure = "failure"

	// CacheHit and CacheMiss say whether an artifact was served from the extracted cache.
	CacheHit  = "hit"
	CacheMiss = "miss"

	// Delivery outcomes of a notification.
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
	DeliveryDropped   = "dropped"

	// Receiver request outcomes, by the status answered.
	RequestAccepted  = "accepted"  // 2xx
	RequestRejected  = "rejected"  // 4xx but 429: authentication, body, unknown path
	RequestThrottled = "throttled" // 429 and 503: the server would not read it
	RequestFailed    = "failed"    // 5xx: the reconciles could not be requested
)

var (
	// reconcileCondition is Flux's gotk_reconcile_condition.
	reconcileCondition = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "weir_reconcile_condition",
		Help: "The current status of a Weir object's condition (Ready, Stalled, Reconciling): 1 for the status it has, 0 for the others.",
	}, []string{"kind", "name", "namespace", "type", "status"})

	// suspendStatus is Flux's gotk_suspend_status.
	suspendStatus = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "weir_suspend_status",
		Help: "1 while a Weir object is suspended (spec.suspend), 0 otherwise.",
	}, []string{"kind", "name", "namespace"})

	// reconcileDuration is Flux's gotk_reconcile_duration_seconds, with its buckets.
	reconcileDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "weir_reconcile_duration_seconds",
		Help:    "The duration in seconds of a Weir object's reconciles.",
		Buckets: prometheus.ExponentialBucketsRange(10e-3, 1800, 10),
	}, []string{"kind", "name", "namespace"})

	// DriftCorrections counts the objects whose drift an apply corrected, by the object's kind
	// and the field manager that had changed it ("unknown" when none owns the field any more).
	DriftCorrections = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "weir_drift_corrections_total",
		Help: "Objects whose drift from the desired state an apply corrected, by object kind and the field manager that drifted them.",
	}, []string{"kind", "manager"})

	// Prunes counts the objects deleted because they were no longer built, by their kind.
	Prunes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "weir_prune_total",
		Help: "Objects deleted by garbage collection (spec.prune) because their source no longer builds them, by object kind.",
	}, []string{"kind"})

	// ArtifactFetchBytes counts the bytes of artifacts downloaded from source-controller.
	ArtifactFetchBytes = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "weir_artifact_fetch_bytes_total",
		Help: "Bytes of artifacts downloaded from source-controller's storage (every attempt that completed, verified or not).",
	})

	// ArtifactCacheRequests counts the artifacts asked of the extracted-artifact cache, by
	// whether they were already there (hit) or had to be downloaded (miss).
	ArtifactCacheRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "weir_artifact_cache_requests_total",
		Help: "Artifacts asked of the controller's cache of extracted artifacts, by result: hit (already extracted or being extracted) or miss (downloaded).",
	}, []string{"result"})

	// HelmActions counts Helm actions run by helm-controller, by action and result.
	HelmActions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "weir_helm_actions_total",
		Help: "Helm actions run for HelmReleases, by action (install, upgrade, rollback, uninstall, test) and result (success, failure).",
	}, []string{"action", "result"})

	// NotificationDeliveries counts notifications by Provider type and outcome.
	NotificationDeliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "weir_notification_deliveries_total",
		Help: "Notifications routed to Providers, by provider type and outcome: delivered, failed (after retries) or dropped (queue full).",
	}, []string{"provider", "outcome"})

	// ReceiverRequests counts incoming webhook requests by Receiver type and outcome.
	ReceiverRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "weir_receiver_requests_total",
		Help: "Incoming webhook requests, by receiver type (\"unknown\" before a Receiver is found) and outcome: accepted, rejected, throttled or failed.",
	}, []string{"type", "outcome"})
)

// Registered once per process, however many managers Main builds after lost elections.
func init() {
	ctrlmetrics.Registry.MustRegister(reconcileCondition, suspendStatus, reconcileDuration,
		DriftCorrections, Prunes, ArtifactFetchBytes, ArtifactCacheRequests, HelmActions,
		NotificationDeliveries, ReceiverRequests)
}

// RequestOutcome is the outcome label of a receiver request answered with status.
func RequestOutcome(status int) string {
	switch {
	case status < 400:
		return RequestAccepted
	case status == 429 || status == 503:
		return RequestThrottled
	case status >= 500:
		return RequestFailed
	default:
		return RequestRejected
	}
}
