package controller

import (
	"context"
	"fmt"

	"github.com/fluxcd/pkg/runtime/conditions"
	"github.com/fluxcd/pkg/runtime/patch"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
)

// progress shows, while a run waits for a wave or a hook, what it waits for: Reconciling=True
// with e.g. "wave 2 of 4: waiting for Deployment/app/api". The frame writes the status only
// when the run ends, so these writes go on a copy of the object, through a patcher of their
// own; restoreProgress puts Reconciling back as the run found it before the frame's patch,
// whose condition diff (from the object as read) then applies as if nothing had been shown.
type progress struct {
	shown   *kustomizev1.Kustomization // what was last written
	patcher *patch.SerialPatcher
	before  *metav1.Condition // Reconciling when the first report was written; nil if absent
	last    string
}

// report writes Reconciling=True (reason Progressing) with the message, unless it is already
// shown. A failed write is logged only: progress is informative.
func (r *KustomizationReconciler) report(ctx context.Context, sc *ksScope, format string, args ...any) {
	p := &sc.progress
	msg := fmt.Sprintf(format, args...)
	if msg == p.last {
		return
	}
	if p.shown == nil {
		p.shown = sc.obj.DeepCopy()
		p.patcher = patch.NewSerialPatcher(p.shown, r.Client)
		if c := conditions.Get(sc.obj, meta.ReconcilingCondition); c != nil {
			p.before = c.DeepCopy()
		}
	}
	p.last = msg
	conditions.MarkReconciling(p.shown, meta.ProgressingReason, "%s", msg)
	r.writeProgress(ctx, p)
}

// restoreProgress puts Reconciling back as it was before the first report of the run.
func (r *KustomizationReconciler) restoreProgress(ctx context.Context, sc *ksScope) {
	p := &sc.progress
	if p.shown == nil || p.last == "" {
		return
	}
	p.last = ""
	if p.before != nil {
		conditions.Set(p.shown, p.before)
	} else {
		conditions.Delete(p.shown, meta.ReconcilingCondition)
	}
	r.writeProgress(ctx, p)
}

func (r *KustomizationReconciler) writeProgress(ctx context.Context, p *progress) {
	err := p.patcher.Patch(ctx, p.shown, patch.WithFieldOwner(r.ControllerName),
		patch.WithOwnedConditions{Conditions: []string{meta.ReconcilingCondition}})
	if err != nil && !apierrors.IsNotFound(err) {
		ctrl.LoggerFrom(ctx).Error(err, "showing the progress of the ordered apply")
	}
}
