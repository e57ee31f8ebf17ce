// Package dependency decides whether an object's spec.dependsOn is satisfied: every dependency
// exists and is Ready at its latest generation, and the object is not part of a dependency
// cycle. It works on any kind through the scheme (typed, cached reads) or unstructured objects,
// so Kustomizations and HelmReleases share one set of rules, including dependencies of another
// kind.
//
// A dependency is ready when its Ready condition is True for its current generation
// (the condition's observedGeneration and, when present, status.observedGeneration equal
// metadata.generation), it is not Reconciling, and, for kinds that record both,
// status.lastAppliedRevision equals status.lastAttemptedRevision.
package dependency
