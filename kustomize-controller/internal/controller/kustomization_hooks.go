package controller

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"github.com/fluxcd/cli-utils/pkg/object"
	"github.com/fluxcd/pkg/runtime/conditions"
	"github.com/fluxcd/pkg/ssa"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/pkg/steps"
)

// Hooks are objects of the build annotated kustomize.weir.dev/hook (typically Jobs). They are
// not applied with the rest nor kept in the inventory: each runs at its point of the reconcile
// (see kustomization_waves.go), is waited for within spec.timeout, and is recorded in
// status.hooks with the revision and the digest of its manifest.
//
//   - A hook runs once per revision and manifest: a run that finds it Succeeded for both (in
//     status.hooks, or its object in the cluster carrying the same run annotation) does not
//     run it again. A failed one is not re-run either until the revision or the manifest
//     changes, or the user deletes its object.
//   - Running means: delete the object left by an earlier run (before-next-run), create it
//     anew with the run annotation, and wait until it completed (a Job's Complete or Failed
//     condition; kstatus for other kinds).
//   - kustomize.weir.dev/hook-delete-policy: on-success deletes the object once it succeeded;
//     before-next-run (the default) keeps it until the hook runs again.
//   - A failing pre-apply or post-apply hook fails the run: HookFailed names it and gives the
//     Job's reason and message; after a failed pre-apply hook no wave is applied. An on-failure
//     hook runs when the apply, a hook, the prune or a health check failed; its own failure is
//     recorded and evented but the run's failure stays the one reported.
//   - pre-delete hooks must be Jobs: they are created suspended with the apply, and resumed
//     when the Kustomization is deleted and deletes its objects, which waits for them (within
//     spec.timeout; a failure is evented and the deletion goes on). The hook objects are then
//     deleted with the rest.

// HookRunAnnotation, on a hook object in the cluster, names the run that created it:
// "<manifest digest>@<revision>".
const HookRunAnnotation = "kustomize.weir.dev/hook-run"

// maxHookMessage bounds a hook's failure message in status.hooks.
const maxHookMessage = 512

// hook is one hook object of the build.
type hook struct {
	obj    *unstructured.Unstructured
	id     object.ObjMetadata
	point  string
	policy string
	wave   int // orders the hooks of one point

	revision, digest string // prepare
}

// newHook reads o's hook annotations, refusing values the controller does not know.
func newHook(o *unstructured.Unstructured, wave int) (*hook, error) {
	a := o.GetAnnotations()
	h := &hook{obj: o, id: object.UnstructuredToObjMetadata(o), point: a[HookAnnotation], policy: a[HookDeletePolicyAnnotation], wave: wave}
	switch h.point {
	case kustomizev1.HookPreApply, kustomizev1.HookPostApply, kustomizev1.HookOnFailure, kustomizev1.HookPreDelete:
	default:
		return nil, fmt.Errorf("%s: annotation %s: %q is not one of pre-apply, post-apply, on-failure, pre-delete", describeObject(o), HookAnnotation, h.point)
	}
	switch h.policy {
	case "":
		h.policy = kustomizev1.HookDeleteBeforeNextRun
	case kustomizev1.HookDeleteBeforeNextRun, kustomizev1.HookDeleteOnSuccess:
	default:
		return nil, fmt.Errorf("%s: annotation %s: %q is not one of before-next-run, on-success", describeObject(o), HookDeletePolicyAnnotation, h.policy)
	}
	if h.point == kustomizev1.HookPreDelete && !isJob(o) {
		return nil, fmt.Errorf("%s: annotation %s: pre-delete hooks must be Jobs (batch/v1): they are created suspended and resumed at deletion", describeObject(o), HookAnnotation)
	}
	return h, nil
}

func isJob(o *unstructured.Unstructured) bool {
	gvk := o.GroupVersionKind()
	return gvk.Group == "batch" && gvk.Kind == "Job"
}

// prepare records the revision and the digest of the manifest, once it carries its labels.
func (h *hook) prepare(sc *ksScope) {
	b, _ := json.Marshal(h.obj.Object)
	h.digest = fmt.Sprintf("sha256:%x", sha256.Sum256(b))
	h.revision = sc.artifact.Revision
}

// runKey is the value of HookRunAnnotation for this run.
func (h *hook) runKey() string { return h.digest + "@" + h.revision }

// desired is the object to create: with the run annotation, and suspended for pre-delete.
func (h *hook) desired() *unstructured.Unstructured {
	o := h.obj.DeepCopy()
	a := o.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[HookRunAnnotation] = h.runKey()
	o.SetAnnotations(a)
	if h.point == kustomizev1.HookPreDelete {
		_ = unstructured.SetNestedField(o.Object, true, "spec", "suspend")
	}
	return o
}

// describe names the hook in messages: "pre-apply Job/app/migrate".
func (h *hook) describe() string {
	return h.point + " " + describeSet(object.ObjMetadataSet{h.id})
}

// keptHookStatuses keeps the entries of status.hooks for the hooks still built.
func keptHookStatuses(prev []kustomizev1.HookStatus, hooks []*hook) []kustomizev1.HookStatus {
	var out []kustomizev1.HookStatus
	for _, st := range prev {
		if slices.ContainsFunc(hooks, func(h *hook) bool { return h.id.String() == st.ID && h.point == st.Point }) {
			out = append(out, st)
		}
	}
	return out
}

// hookStatus is h's entry in status.hooks, nil when it never ran.
func hookStatus(obj *kustomizev1.Kustomization, h *hook) *kustomizev1.HookStatus {
	for i := range obj.Status.Hooks {
		if st := &obj.Status.Hooks[i]; st.ID == h.id.String() && st.Point == h.point {
			return st
		}
	}
	return nil
}

// setHookStatus records h's phase for this run.
func setHookStatus(obj *kustomizev1.Kustomization, h *hook, phase, msg string) {
	if len(msg) > maxHookMessage {
		msg = msg[:maxHookMessage] + "…"
	}
	st := kustomizev1.HookStatus{ID: h.id.String(), Version: h.obj.GroupVersionKind().Version, Point: h.point,
		Revision: h.revision, Digest: h.digest, Phase: phase, Message: msg}
	if cur := hookStatus(obj, h); cur != nil {
		*cur = st
		return
	}
	obj.Status.Hooks = append(obj.Status.Hooks, st)
}

// runHooks runs the hooks of point one after the other, stopping at the first that fails.
func (r *KustomizationReconciler) runHooks(ctx context.Context, sc *ksScope, point string) error {
	for _, h := range sc.plan.hooksAt(point) {
		if err := r.runHook(ctx, sc, h); err != nil {
			return err
		}
	}
	return nil
}

// runHook runs h unless it already succeeded for this revision and manifest, and waits for it.
// It sets HookFailed when it fails or does not finish within spec.timeout.
func (r *KustomizationReconciler) runHook(ctx context.Context, sc *ksScope, h *hook) error {
	if st := hookStatus(sc.obj, h); st != nil && st.Revision == h.revision && st.Digest == h.digest && st.Phase == kustomizev1.HookSucceeded {
		return nil
	}
	live, err := r.getHook(ctx, sc, h)
	if err != nil {
		return err
	}
	phase, msg := kustomizev1.HookRunning, ""
	if live != nil && live.GetAnnotations()[HookRunAnnotation] == h.runKey() {
		phase, msg = hookPhase(live) // this run's object: wait for it, or take its outcome
	} else if err := r.createHook(ctx, sc, h, live); err != nil {
		return err
	}
	timeout := sc.obj.GetTimeout()
	if phase == kustomizev1.HookRunning {
		setHookStatus(sc.obj, h, kustomizev1.HookRunning, "")
		r.report(ctx, sc, "hook %s: running", h.describe())
		err = wait.PollUntilContextTimeout(ctx, ssaWaitInterval, timeout, true, func(ctx context.Context) (bool, error) {
			live, err := r.getHook(ctx, sc, h)
			if err != nil {
				return false, err
			}
			if live == nil {
				if _, ttl, _ := unstructured.NestedInt64(h.obj.Object, "spec", "ttlSecondsAfterFinished"); ttl && isJob(h.obj) {
					// The TTL controller deletes a Job only once it finished.
					phase, msg = kustomizev1.HookSucceeded, ""
					return true, nil
				}
				phase, msg = kustomizev1.HookFailed, "deleted while it ran"
				return true, nil
			}
			phase, msg = hookPhase(live)
			return phase != kustomizev1.HookRunning, nil
		})
	}
	switch {
	case err != nil && ctx.Err() != nil:
		return ctx.Err()
	case err != nil && wait.Interrupted(err):
		phase, msg = kustomizev1.HookFailed, fmt.Sprintf("did not complete within spec.timeout (%s)", timeout)
	case err != nil:
		return fmt.Errorf("hook %s: %w", h.describe(), err)
	}
	setHookStatus(sc.obj, h, phase, msg)
	if phase == kustomizev1.HookSucceeded {
		if h.policy == kustomizev1.HookDeleteOnSuccess {
			if err := r.deleteHook(ctx, sc, h); err != nil {
				return err
			}
		}
		return nil
	}
	err = fmt.Errorf("revision %s: hook %s failed: %s", h.revision, h.describe(), msg)
	if h.point == kustomizev1.HookPreApply {
		err = fmt.Errorf("%w; no wave was applied", err)
	}
	conditions.MarkTrue(sc.obj, kustomizev1.HookFailedCondition, kustomizev1.HookFailedReason, "%s", err)
	return steps.Failed(kustomizev1.HookFailedReason, err)
}

// hookPhase is what a hook object in the cluster says of its run: for a Job, its Complete or
// Failed condition (with the reason and message); for another kind, kstatus.
func hookPhase(live *unstructured.Unstructured) (phase, msg string) {
	if isJob(live) {
		conds, _, _ := unstructured.NestedSlice(live.Object, "status", "conditions")
		for _, c := range conds {
			m, _ := c.(map[string]any)
			if m["status"] != string(corev1.ConditionTrue) {
				continue
			}
			switch m["type"] {
			case "Complete":
				return kustomizev1.HookSucceeded, ""
			case "Failed":
				return kustomizev1.HookFailed, fmt.Sprintf("%v: %v", m["reason"], m["message"])
			}
		}
		return kustomizev1.HookRunning, ""
	}
	res, err := status.Compute(live)
	switch {
	case err != nil:
		return kustomizev1.HookFailed, err.Error()
	case res.Status == status.CurrentStatus:
		return kustomizev1.HookSucceeded, ""
	case res.Status == status.FailedStatus:
		return kustomizev1.HookFailed, res.Message
	}
	return kustomizev1.HookRunning, ""
}

// getHook reads h's object from the cluster, nil when there is none.
func (r *KustomizationReconciler) getHook(ctx context.Context, sc *ksScope, h *hook) (*unstructured.Unstructured, error) {
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(h.obj.GroupVersionKind())
	err := sc.manager.Client().Get(ctx, client.ObjectKeyFromObject(h.obj), live)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("hook %s: %w", h.describe(), err)
	}
	return live, nil
}

// createHook deletes the object an earlier run left (live, when not nil), waits until it is
// gone, and creates h's object for this run.
func (r *KustomizationReconciler) createHook(ctx context.Context, sc *ksScope, h *hook, live *unstructured.Unstructured) error {
	if live != nil {
		if err := r.deleteHook(ctx, sc, h); err != nil {
			return err
		}
		if err := sc.manager.WaitForTermination([]*unstructured.Unstructured{live}, ssa.WaitOptions{Interval: time.Second, Timeout: sc.obj.GetTimeout()}); err != nil {
			return fmt.Errorf("hook %s: the object of its previous run is still there: %w", h.describe(), err)
		}
	}
	if _, err := sc.manager.Apply(ctx, h.desired(), ssa.DefaultApplyOptions()); err != nil {
		err = fmt.Errorf("revision %s: hook %s: %w", h.revision, h.describe(), err)
		conditions.MarkTrue(sc.obj, kustomizev1.HookFailedCondition, kustomizev1.HookFailedReason, "%s", err)
		return steps.Failed(kustomizev1.HookFailedReason, err)
	}
	return nil
}

// deleteHook deletes h's object (its Pods in the background), if it is there.
func (r *KustomizationReconciler) deleteHook(ctx context.Context, sc *ksScope, h *hook) error {
	err := sc.manager.Client().Delete(ctx, h.obj.DeepCopy(), client.PropagationPolicy(metav1.DeletePropagationBackground))
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("hook %s: deleting the object of its previous run: %w", h.describe(), err)
	}
	return nil
}

// prepareHooks creates the pre-delete hooks suspended (see above), unless this revision and
// manifest already are.
func (r *KustomizationReconciler) prepareHooks(ctx context.Context, sc *ksScope, point string) error {
	for _, h := range sc.plan.hooksAt(point) {
		live, err := r.getHook(ctx, sc, h)
		if err != nil {
			return err
		}
		if live == nil || live.GetAnnotations()[HookRunAnnotation] != h.runKey() {
			if err := r.createHook(ctx, sc, h, live); err != nil {
				return err
			}
		}
		setHookStatus(sc.obj, h, kustomizev1.HookPending, "")
	}
	return nil
}

// afterFailure runs the on-failure hooks when a run that got as far as the apply failed, and
// returns the run's error unchanged.
func (r *KustomizationReconciler) afterFailure(ctx context.Context, sc *ksScope, runErr error) error {
	hooks := sc.plan.hooksAt(kustomizev1.HookOnFailure)
	if runErr == nil || sc.skipped || sc.manager == nil || len(hooks) == 0 || errors.Is(runErr, context.Canceled) {
		return runErr
	}
	defer r.restoreProgress(ctx, sc)
	sc.plan.label(sc)
	for _, h := range hooks {
		if st := hookStatus(sc.obj, h); st != nil && st.Revision == sc.artifact.Revision && st.Phase == kustomizev1.HookFailed {
			continue // failed for this revision already: reported then
		}
		if err := r.runHook(ctx, sc, h); err != nil {
			r.EventRecorder.AnnotatedEventf(sc.obj, nil, revisionMetadata(sc), corev1.EventTypeWarning, kustomizev1.HookFailedReason, steps.ActionReconcile, "%s", err)
		}
	}
	return runErr
}

// preDelete resumes the pre-delete hooks recorded in status.hooks and waits for them until
// deadline, then deletes every hook object status.hooks lists that still carries this
// Kustomization's ownership labels. A failure is evented, and the deletion goes on.
func (r *KustomizationReconciler) preDelete(ctx context.Context, obj *kustomizev1.Kustomization, manager *ssa.ResourceManager, deadline time.Time) {
	var all []*unstructured.Unstructured
	for _, st := range obj.Status.Hooks {
		u, err := hookObject(st)
		if err != nil {
			continue
		}
		all = append(all, u)
		if st.Point != kustomizev1.HookPreDelete {
			continue
		}
		if err := r.resumeAndWait(ctx, manager, u, deadline); err != nil {
			r.EventRecorder.AnnotatedEventf(obj, nil, nil, corev1.EventTypeWarning, kustomizev1.HookFailedReason, steps.ActionReconcile,
				"hook pre-delete %s: %s; deleting the objects anyway", describeObjects([]*unstructured.Unstructured{u}), err)
		}
	}
	if len(all) > 0 {
		_ = deleteApplied(ctx, manager, all, obj.Name, obj.Namespace)
	}
}

// resumeAndWait unsuspends the Job and waits, until deadline, for it to complete.
func (r *KustomizationReconciler) resumeAndWait(ctx context.Context, manager *ssa.ResourceManager, job *unstructured.Unstructured, deadline time.Time) error {
	c := manager.Client()
	live := job.DeepCopy()
	if err := c.Get(ctx, client.ObjectKeyFromObject(job), live); err != nil {
		// Not found: it ran and was deleted by an earlier attempt at this deletion, or by hand.
		return client.IgnoreNotFound(err)
	}
	if suspended, _, _ := unstructured.NestedBool(live.Object, "spec", "suspend"); suspended {
		resumed := live.DeepCopy()
		_ = unstructured.SetNestedField(resumed.Object, false, "spec", "suspend")
		if err := c.Patch(ctx, resumed, client.MergeFrom(live)); err != nil {
			return err
		}
	}
	var phase, msg string
	err := wait.PollUntilContextTimeout(ctx, ssaWaitInterval, max(time.Until(deadline), time.Millisecond), true, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKeyFromObject(job), live); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		phase, msg = hookPhase(live)
		return phase != kustomizev1.HookRunning, nil
	})
	switch {
	case err != nil && wait.Interrupted(err):
		return errors.New("did not complete within spec.timeout")
	case err != nil:
		return err
	case phase == kustomizev1.HookFailed:
		return fmt.Errorf("failed: %s", msg)
	}
	return nil
}

// hookObject is the object a status.hooks entry names, to read or delete.
func hookObject(st kustomizev1.HookStatus) (*unstructured.Unstructured, error) {
	id, err := object.ParseObjMetadata(st.ID)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(id.GroupKind.WithVersion(st.Version))
	u.SetNamespace(id.Namespace)
	u.SetName(id.Name)
	return u, nil
}
