package v1

import "weir.dev/api/meta"

// The methods below let the shared reconcile frame (weir.dev/pkg/steps) read and record a
// reconcile's bookkeeping without per-kind accessors.

// IsSuspended reports spec.suspend.
func (in *Provider) IsSuspended() bool { return in.Spec.Suspend }

// GetObservedGeneration returns status.observedGeneration.
func (in *Provider) GetObservedGeneration() int64 { return in.Status.ObservedGeneration }

// SetObservedGeneration sets status.observedGeneration.
func (in *Provider) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetReconcileRequestStatus returns the status's echo of the reconcile-request annotation.
func (in *Provider) GetReconcileRequestStatus() *meta.ReconcileRequestStatus {
	return &in.Status.ReconcileRequestStatus
}

// IsSuspended reports spec.suspend.
func (in *Alert) IsSuspended() bool { return in.Spec.Suspend }

// GetObservedGeneration returns status.observedGeneration.
func (in *Alert) GetObservedGeneration() int64 { return in.Status.ObservedGeneration }

// SetObservedGeneration sets status.observedGeneration.
func (in *Alert) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetReconcileRequestStatus returns the status's echo of the reconcile-request annotation.
func (in *Alert) GetReconcileRequestStatus() *meta.ReconcileRequestStatus {
	return &in.Status.ReconcileRequestStatus
}

// IsSuspended reports spec.suspend.
func (in *Receiver) IsSuspended() bool { return in.Spec.Suspend }

// GetObservedGeneration returns status.observedGeneration.
func (in *Receiver) GetObservedGeneration() int64 { return in.Status.ObservedGeneration }

// SetObservedGeneration sets status.observedGeneration.
func (in *Receiver) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetReconcileRequestStatus returns the status's echo of the reconcile-request annotation.
func (in *Receiver) GetReconcileRequestStatus() *meta.ReconcileRequestStatus {
	return &in.Status.ReconcileRequestStatus
}
