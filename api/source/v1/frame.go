package v1

import "weir.dev/api/meta"

// The methods below let the shared reconcile frame (weir.dev/pkg/steps) read and record a
// reconcile's bookkeeping without per-kind accessors.

// IsSuspended reports spec.suspend.
func (in *GitRepository) IsSuspended() bool { return in.Spec.Suspend }

// GetObservedGeneration returns status.observedGeneration.
func (in *GitRepository) GetObservedGeneration() int64 { return in.Status.ObservedGeneration }

// SetObservedGeneration sets status.observedGeneration.
func (in *GitRepository) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetReconcileRequestStatus returns the status's echo of the reconcile-request annotation.
func (in *GitRepository) GetReconcileRequestStatus() *meta.ReconcileRequestStatus {
	return &in.Status.ReconcileRequestStatus
}

// IsSuspended reports spec.suspend.
func (in *OCIRepository) IsSuspended() bool { return in.Spec.Suspend }

// GetObservedGeneration returns status.observedGeneration.
func (in *OCIRepository) GetObservedGeneration() int64 { return in.Status.ObservedGeneration }

// SetObservedGeneration sets status.observedGeneration.
func (in *OCIRepository) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetReconcileRequestStatus returns the status's echo of the reconcile-request annotation.
func (in *OCIRepository) GetReconcileRequestStatus() *meta.ReconcileRequestStatus {
	return &in.Status.ReconcileRequestStatus
}

// IsSuspended reports spec.suspend.
func (in *HelmRepository) IsSuspended() bool { return in.Spec.Suspend }

// GetObservedGeneration returns status.observedGeneration.
func (in *HelmRepository) GetObservedGeneration() int64 { return in.Status.ObservedGeneration }

// SetObservedGeneration sets status.observedGeneration.
func (in *HelmRepository) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetReconcileRequestStatus returns the status's echo of the reconcile-request annotation.
func (in *HelmRepository) GetReconcileRequestStatus() *meta.ReconcileRequestStatus {
	return &in.Status.ReconcileRequestStatus
}

// IsSuspended reports spec.suspend.
func (in *HelmChart) IsSuspended() bool { return in.Spec.Suspend }

// GetObservedGeneration returns status.observedGeneration.
func (in *HelmChart) GetObservedGeneration() int64 { return in.Status.ObservedGeneration }

// SetObservedGeneration sets status.observedGeneration.
func (in *HelmChart) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetReconcileRequestStatus returns the status's echo of the reconcile-request annotation.
func (in *HelmChart) GetReconcileRequestStatus() *meta.ReconcileRequestStatus {
	return &in.Status.ReconcileRequestStatus
}

// IsSuspended reports spec.suspend.
func (in *ArtifactGenerator) IsSuspended() bool { return in.Spec.Suspend }

// GetObservedGeneration returns status.observedGeneration.
func (in *ArtifactGenerator) GetObservedGeneration() int64 { return in.Status.ObservedGeneration }

// SetObservedGeneration sets status.observedGeneration.
func (in *ArtifactGenerator) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetReconcileRequestStatus returns the status's echo of the reconcile-request annotation.
func (in *ArtifactGenerator) GetReconcileRequestStatus() *meta.ReconcileRequestStatus {
	return &in.Status.ReconcileRequestStatus
}
