package controller

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fluxcd/cli-utils/pkg/object"
	"github.com/fluxcd/pkg/runtime/conditions"
	"github.com/fluxcd/pkg/ssa"
	ssautils "github.com/fluxcd/pkg/ssa/utils"
	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/pkg/steps"
)

// Waves and hooks order the apply inside one Kustomization.
//
// An object annotated kustomize.weir.dev/wave: "<int>" (default 0) belongs to that wave. When
// the build has more than one wave, or any hook, the apply runs in this order:
//
//  1. CRDs, Namespaces, ClusterRoles and class definitions, whatever their wave, applied and
//     waited for as always;
//  2. a server-side dry run of every other object and every hook object not yet in the
//     cluster (the whole set, once), so an invalid object in the last wave stops the apply
//     before the first one;
//  3. the pre-apply hooks, each until it completed;
//  4. the waves in ascending order, each healthy (kstatus, or spec.healthCheckExprs) before
//     the next is applied. A wave that does not become healthy within spec.timeout stops the
//     run: the later waves are not applied (WaveFailed names them). The last wave is waited
//     for only when post-apply hooks follow (otherwise spec.wait and spec.healthChecks decide,
//     as for any Kustomization);
//  5. the post-apply hooks;
//  6. the pre-delete hooks are created suspended, to run at deletion.
//
// While a wave or a hook is waited for, Reconciling says so ("wave 2 of 4: waiting for
// Deployment/app/api"). Prune deletes objects in reverse wave order when the build has waves,
// each wave gone before the next. A build with neither waves nor hooks takes none of these
// steps: it is applied by ApplyAllStaged as before, with the same requests.

// Annotations of ordered applies.
const (
	// WaveAnnotation puts an object in a wave: an integer, default 0.
	WaveAnnotation = "kustomize.weir.dev/wave"
	// HookAnnotation makes an object a hook: pre-apply, post-apply, on-failure or pre-delete.
	HookAnnotation = "kustomize.weir.dev/hook"
	// HookDeletePolicyAnnotation says when a hook object is deleted: before-next-run
	// (default) or on-success.
	HookDeletePolicyAnnotation = "kustomize.weir.dev/hook-delete-policy"
)

// maxHooks bounds the hooks of one Kustomization (status.hooks lists them all).
const maxHooks = 32

// wavePlan is a build split into waves and hooks (reconcileWaves).
type wavePlan struct {
	waves []wave // ascending; one wave when no object names another
	hooks []*hook

	prepared bool // label ran

	// dropped are the hook objects of status.hooks no longer built: pruned with the stale
	// objects, as they are not in the inventory.
	dropped []*unstructured.Unstructured
}

// wave is the objects of one wave number, cluster definitions excluded.
type wave struct {
	number  int
	objects []*unstructured.Unstructured
}

// ordered reports whether the plan needs the ordered apply: several waves, or hooks.
func (p *wavePlan) ordered() bool { return p != nil && (len(p.waves) > 1 || len(p.hooks) > 0) }

// waved reports whether the build has more than one wave.
func (p *wavePlan) waved() bool { return p != nil && len(p.waves) > 1 }

// label gives the hook objects their ownership labels and digests, once.
func (p *wavePlan) label(sc *ksScope) {
	if p.prepared {
		return
	}
	p.prepared = true
	for _, h := range p.hooks {
		sc.manager.SetOwnerLabels([]*unstructured.Unstructured{h.obj}, sc.obj.Name, sc.obj.Namespace)
		h.prepare(sc)
	}
}

// hooksAt returns the hooks of point, in the order they run.
func (p *wavePlan) hooksAt(point string) []*hook {
	if p == nil {
		return nil
	}
	var out []*hook
	for _, h := range p.hooks {
		if h.point == point {
			out = append(out, h)
		}
	}
	return out
}

// reconcileWaves takes the hook objects out of the build (they are not applied with the rest,
// nor kept in the inventory) and groups the rest into waves. An annotation with a value it
// does not know stalls the Kustomization, naming the object and the annotation; nothing is
// applied. It sets BuildFailed (reason InvalidAnnotation).
func (r *KustomizationReconciler) reconcileWaves(ctx context.Context, sc *ksScope) error {
	if sc.skipped {
		return nil
	}
	rest, plan, err := planWaves(sc.objects)
	if err != nil {
		err = fmt.Errorf("revision %s: %w", sc.artifact.Revision, err)
		conditions.MarkTrue(sc.obj, kustomizev1.BuildFailedCondition, kustomizev1.InvalidAnnotationReason, "%s", err)
		return steps.Stalled(kustomizev1.InvalidAnnotationReason, err)
	}
	sc.objects, sc.plan = rest, plan
	kept := keptHookStatuses(sc.obj.Status.Hooks, plan.hooks)
	for _, st := range sc.obj.Status.Hooks {
		if !slices.ContainsFunc(kept, func(k kustomizev1.HookStatus) bool { return k.ID == st.ID }) {
			if o, err := hookObject(st); err == nil {
				plan.dropped = append(plan.dropped, o)
			}
		}
	}
	sc.obj.Status.Hooks = kept
	return nil
}

// planWaves splits objects into the hooks and the rest, grouped by wave.
func planWaves(objects []*unstructured.Unstructured) ([]*unstructured.Unstructured, *wavePlan, error) {
	plan := &wavePlan{}
	byWave := map[int][]*unstructured.Unstructured{}
	rest := make([]*unstructured.Unstructured, 0, len(objects))
	var errs []string
	for _, o := range objects {
		n, err := waveOf(o)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if _, isHook := o.GetAnnotations()[HookAnnotation]; isHook {
			h, err := newHook(o, n)
			if err != nil {
				errs = append(errs, err.Error())
				continue
			}
			plan.hooks = append(plan.hooks, h)
			continue
		}
		rest = append(rest, o)
		if !ssautils.IsClusterDefinition(o) && !ssautils.IsClassDefinition(o) {
			byWave[n] = append(byWave[n], o)
		}
	}
	if len(errs) > 0 {
		if len(errs) > maxConflictsInMessage {
			errs = append(errs[:maxConflictsInMessage], fmt.Sprintf("and %d more", len(errs)-maxConflictsInMessage))
		}
		return nil, nil, errors.New(strings.Join(errs, "; "))
	}
	if len(plan.hooks) > maxHooks {
		return nil, nil, fmt.Errorf("the build has %d hook objects (%s), more than the %d allowed", len(plan.hooks), HookAnnotation, maxHooks)
	}
	for n, objs := range byWave {
		plan.waves = append(plan.waves, wave{number: n, objects: objs})
	}
	slices.SortFunc(plan.waves, func(a, b wave) int { return cmp.Compare(a.number, b.number) })
	slices.SortStableFunc(plan.hooks, func(a, b *hook) int {
		return cmp.Or(cmp.Compare(a.wave, b.wave), strings.Compare(a.id.String(), b.id.String()))
	})
	return rest, plan, nil
}

// waveOf is o's wave number, 0 when it has none.
func waveOf(o *unstructured.Unstructured) (int, error) {
	v, ok := o.GetAnnotations()[WaveAnnotation]
	if !ok {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, fmt.Errorf("%s: annotation %s: %q is not an integer", describeObject(o), WaveAnnotation, v)
	}
	return n, nil
}

// applyOrdered applies the build as the plan orders it (see the top of this file), or, when
// the plan has neither waves nor hooks, exactly as before. The change set holds what was
// applied, also on error. A wave or hook failure comes back as a steps error with its own
// condition set; any other error is the apply's.
func (r *KustomizationReconciler) applyOrdered(ctx context.Context, sc *ksScope, opts ssa.ApplyOptions) (*ssa.ChangeSet, error) {
	if !sc.plan.ordered() {
		return sc.manager.ApplyAllStaged(ctx, sc.objects, opts)
	}
	defer r.restoreProgress(ctx, sc)
	sc.plan.label(sc)
	conditions.Delete(sc.obj, kustomizev1.HookFailedCondition)
	changeSet := ssa.NewChangeSet()
	var defs []*unstructured.Unstructured
	for _, o := range sc.objects {
		if ssautils.IsClusterDefinition(o) || ssautils.IsClassDefinition(o) {
			defs = append(defs, o)
		}
	}
	if len(defs) > 0 {
		cs, err := sc.manager.ApplyAllStaged(ctx, defs, opts)
		if cs != nil {
			changeSet.Append(cs.Entries)
		}
		if err != nil {
			return changeSet, err
		}
	}
	if err := r.dryRunAll(ctx, sc); err != nil {
		return changeSet, err
	}
	if err := r.runHooks(ctx, sc, kustomizev1.HookPreApply); err != nil {
		return changeSet, err
	}
	postApply := len(sc.plan.hooksAt(kustomizev1.HookPostApply)) > 0
	n := len(sc.plan.waves)
	for i, w := range sc.plan.waves {
		cs, err := sc.manager.ApplyAll(ctx, w.objects, opts)
		if cs != nil {
			changeSet.Append(cs.Entries)
		}
		if err != nil {
			return changeSet, fmt.Errorf("%s: %w%s", waveName(i, n, w), err, notApplied(sc.plan.waves[i+1:]))
		}
		if i == n-1 && !postApply {
			break
		}
		if err := r.waitWave(ctx, sc, i, cs.ToObjMetadataSet()); err != nil {
			return changeSet, err
		}
	}
	if err := r.runHooks(ctx, sc, kustomizev1.HookPostApply); err != nil {
		return changeSet, err
	}
	if err := r.prepareHooks(ctx, sc, kustomizev1.HookPreDelete); err != nil {
		return changeSet, err
	}
	return changeSet, nil
}

// waveName names the i-th of n waves for messages: "wave 2 of 4 (kustomize.weir.dev/wave: 10)".
func waveName(i, n int, w wave) string {
	return fmt.Sprintf("%s (%s: %d)", shortWaveName(i, n), WaveAnnotation, w.number)
}

// shortWaveName names the i-th of n waves in progress: "wave 2 of 4".
func shortWaveName(i, n int) string { return fmt.Sprintf("wave %d of %d", i+1, n) }

// notApplied says which waves a failure left unapplied, "" when none.
func notApplied(later []wave) string {
	if len(later) == 0 {
		return ""
	}
	nums := make([]string, 0, len(later))
	for _, w := range later {
		nums = append(nums, strconv.Itoa(w.number))
	}
	return fmt.Sprintf("; the later waves (%s) were not applied", strings.Join(nums, ", "))
}

// dryRunAll validates, before anything but the cluster definitions is applied, every object
// of every wave and every hook object not in the cluster yet (one already there is deleted
// and created anew when it runs, so it cannot be validated against itself).
func (r *KustomizationReconciler) dryRunAll(ctx context.Context, sc *ksScope) error {
	var objs []*unstructured.Unstructured
	for _, w := range sc.plan.waves {
		objs = append(objs, w.objects...)
	}
	for _, h := range sc.plan.hooks {
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(h.obj.GroupVersionKind())
		err := sc.manager.Client().Get(ctx, client.ObjectKeyFromObject(h.obj), live)
		switch {
		case apierrors.IsNotFound(err):
			objs = append(objs, h.desired())
		case err != nil:
			return fmt.Errorf("hook %s: %w", h.describe(), err)
		}
	}
	opts := ssa.DiffOptions{
		Exclusions:           map[string]string{SSAAnnotation: "Ignore"},
		IfNotPresentSelector: map[string]string{SSAAnnotation: "IfNotPresent"},
		Force:                sc.obj.Spec.Force,
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(applyConcurrency)
	for _, o := range objs {
		g.Go(func() error {
			_, _, _, err := sc.manager.Diff(gctx, o.DeepCopy(), opts)
			return err
		})
	}
	return g.Wait()
}

// waitWave waits, within spec.timeout, until the objects the i-th wave applied are healthy,
// showing in Reconciling the first one that is not. It sets HealthCheckFailed (reason
// WaveFailed) when they are not, naming the wave and the later ones not applied. (Healthy
// stays reconcileHealth's: it is present only with spec.wait or spec.healthChecks.)
func (r *KustomizationReconciler) waitWave(ctx context.Context, sc *ksScope, i int, set object.ObjMetadataSet) error {
	w, n := sc.plan.waves[i], len(sc.plan.waves)
	timeout := sc.obj.GetTimeout()
	deadline := time.Now().Add(timeout)
	// Most waves are healthy at once: one poll, no status write.
	err := sc.manager.WaitForSetWithContext(ctx, set, ssa.WaitOptions{Interval: ssaWaitInterval, Timeout: min(ssaWaitInterval, timeout)})
	unhealthy := set
	if err != nil {
		// Then one object at a time, in order, showing the one waited for.
		for _, id := range set {
			one := object.ObjMetadataSet{id}
			unhealthy = one
			left := time.Until(deadline)
			if left <= 0 {
				err = fmt.Errorf("no time left to wait for %s", describeSet(one))
				break
			}
			err = sc.manager.WaitForSetWithContext(ctx, one, ssa.WaitOptions{Interval: ssaWaitInterval, Timeout: min(ssaWaitInterval, left)})
			if left = time.Until(deadline); err != nil && left > 0 {
				r.report(ctx, sc, "%s: waiting for %s", shortWaveName(i, n), describeSet(one))
				err = sc.manager.WaitForSetWithContext(ctx, one, ssa.WaitOptions{Interval: ssaWaitInterval, Timeout: left})
			}
			if err != nil {
				break
			}
		}
	}
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	err = fmt.Errorf("revision %s: %s: health check of %s failed (timeout %s): %s%s", sc.artifact.Revision, waveName(i, n, w),
		describeSet(unhealthy), timeout, strings.TrimSpace(err.Error()), notApplied(sc.plan.waves[i+1:]))
	conditions.MarkTrue(sc.obj, kustomizev1.HealthCheckFailedCondition, kustomizev1.WaveFailedReason, "%s", err)
	return steps.Failed(kustomizev1.WaveFailedReason, err)
}
