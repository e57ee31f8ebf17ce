package v1

import "weir.dev/api/meta"

// The methods below let the shared reconcile frame (weir.dev/pkg/steps) read and record a
// reconcile's bookkeeping without per-kind accessors.

// IsSuspended reports spec.suspend.
func (in *HelmRelease) IsSuspended() bool { return in.Spec.Suspend }

// GetObservedGeneration returns status.observedGeneration.
func (in *HelmRelease) GetObservedGeneration() int64 { return in.Status.ObservedGeneration }

// SetObservedGeneration sets status.observedGeneration.
func (in *HelmRelease) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetReconcileRequestStatus returns the status's echo of the reconcile-request annotation.
func (in *HelmRelease) GetReconcileRequestStatus() *meta.ReconcileRequestStatus {
	return &in.Status.ReconcileRequestStatus
}
