package controller

import (
	"context"
	"fmt"

	"github.com/fluxcd/pkg/runtime/conditions"
	"sigs.k8s.io/controller-runtime/pkg/log"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	"weir.dev/helm-controller/internal/release"
	"weir.dev/pkg/steps"
)

// recordActionStart writes to status, before a Helm install or upgrade runs (and, unless
// disabled, waits for its resources up to its timeout), what is being done: Ready=Unknown and
// Reconciling=True naming the action, the chart and the wait, and the reconcile request as
// handled, so that users and `weir reconcile` see the run while Helm waits. It writes through
// the run's patcher (steps.PatchNow), so the outcome's patch overwrites it. A failure to write
// is logged: the action runs all the same, and its outcome is patched after it.
func (r *HelmReleaseReconciler) recordActionStart(ctx context.Context, sc *hrScope, runner *release.Runner, action helmv1.ReleaseAction, opts release.ActionOptions) {
	msg := fmt.Sprintf("Helm %s of release %s with chart %s", action, releaseRef(runner), sc.chartRef())
	if opts.Wait {
		msg += fmt.Sprintf(": waiting up to %s for its resources", opts.Timeout)
	} else {
		msg += " (not waiting for its resources)"
	}
	conditions.MarkUnknown(sc.obj, meta.ReadyCondition, meta.ProgressingReason, "%s", msg)
	conditions.MarkReconciling(sc.obj, meta.ProgressingReason, "%s", msg)
	err := steps.PatchNow(ctx)
	if err != nil {
		log.FromContext(ctx).Info("recording the start of the Helm action in status failed", "error", err.Error())
	}
}
