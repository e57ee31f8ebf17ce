package release

import "weir.dev/pkg/metrics"

// countAction adds a Helm action that ended with *err to weir_helm_actions_total. Deferred
// first thing in each action, it counts every attempt, including those refused before Helm
// ran (a release locked by another run).
func countAction(action string, err *error) {
	result := metrics.ResultSuccess
	if *err != nil {
		result = metrics.ResultFailure
	}
	metrics.HelmActions.WithLabelValues(action, result).Inc()
}
