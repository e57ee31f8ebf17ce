package controller

import (
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"weir.dev/pkg/predicates"
)

// sourceChanged passes an update of a chart source whose artifact, or whose Ready condition,
// changed: a new chart triggers its releases at once, and so does a failure to find one, so
// that the release reports it. A source created with an artifact passes too (as it does for
// every consumer of predicates.ArtifactChanged).
func sourceChanged() predicate.Predicate {
	return predicate.Or(predicates.ArtifactChanged{}, predicates.ReadyChanged{})
}
