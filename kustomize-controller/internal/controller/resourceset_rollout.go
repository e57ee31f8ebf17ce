package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/fluxcd/cli-utils/pkg/object"
	"github.com/fluxcd/pkg/runtime/conditions"
	"github.com/fluxcd/pkg/ssa"
	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	setsv1 "weir.dev/api/sets/v1"
	"weir.dev/pkg/steps"
)

// setApplyConcurrency is how many inputs of a set are applied, or looked at, at once. Each
// input's objects are applied one by one (read, dry run, apply), so a set's speed is this many
// round trips at a time: 16 brought 1,000 inputs from 16 s to 11 s on a loaded machine
// (BenchmarkSet1000Inputs), and the API server's priority and fairness bound the rest.
const setApplyConcurrency = 16

// inputState is what one look at an applied input's objects found.
type inputState struct {
	state objState
	msg   string // the first object not Ready, and why
}

// reconcileRollout walks the steps in order. In each it applies the inputs whose rendering
// changed (at most maxUnavailable not Ready at a time), then looks at every object of the step:
// when more inputs failed (an object Ready=False at its new spec, refused, or not Ready within
// spec.timeout) than the step's failureThreshold, the rollout stops there and later steps keep
// their previous spec; while some are not Ready yet it waits; when all are, the next step
// starts. The inputs' records and the inventory are written whatever happens. It sets
// RolloutStopped and ApplyFailed.
func (r *ResourceSetReconciler) reconcileRollout(ctx context.Context, sc *setScope) error {
	obj := sc.obj
	manager := r.setManager(sc.cluster)
	defer r.recordInputs(sc)
	var strategy []setsv1.Step
	if obj.Spec.Strategy != nil {
		strategy = obj.Spec.Strategy.Steps
	}
	for s := 0; s < sc.steps; s++ {
		name := stepName(strategy, s)
		started := stepStarted(sc, s)
		var members []*setInput
		for _, in := range sc.inputs {
			if in.step == s && in.renderErr == nil {
				members = append(members, in)
			}
		}
		states := r.lookAt(ctx, sc, members)
		budget := len(members)
		if s < len(strategy) && strategy[s].MaxUnavailable != nil {
			budget = int(*strategy[s].MaxUnavailable)
			for _, st := range states {
				if st.state != objReady {
					budget--
				}
			}
		}
		var toApply []*setInput
		pending := 0
		for _, in := range members {
			if in.upToDate() {
				continue
			}
			if budget <= 0 {
				pending++
				continue
			}
			budget--
			toApply = append(toApply, in)
		}
		r.applyInputs(ctx, sc, manager, toApply)
		for name, st := range r.lookAt(ctx, sc, toApply) {
			states[name] = st
		}

		threshold := 0
		if s < len(strategy) {
			threshold = int(strategy[s].FailureThreshold)
		}
		timedOut := sc.now.Sub(started.Time) > obj.GetTimeout()
		// A rollout stopped at this step stays stopped until its inputs are Ready or a new
		// revision comes: an input that is progressing again (its object re-read before its
		// controller looked at it) does not resume the later steps.
		ro := obj.Status.Rollout
		stopped := ro != nil && ro.Stopped && ro.Revision == sc.revision && int(ro.Step) == s
		var failed, waiting []string
		for _, in := range members {
			switch st, ok := states[in.name]; {
			case in.applyErr != nil:
				failed = append(failed, in.applyErr.Error())
			case !ok:
			case st.state == objFailed || (st.state == objProgressing && (timedOut || stopped)):
				failed = append(failed, fmt.Sprintf("input %s: %s", in.name, st.msg))
			case st.state == objProgressing:
				waiting = append(waiting, fmt.Sprintf("input %s: %s", in.name, st.msg))
			}
		}
		if len(failed) > threshold {
			err := fmt.Errorf("rollout of revision %s stopped at step %s (%d of %d): %d inputs failed, more than its failureThreshold of %d: %s; later steps keep their previous spec until a new revision",
				sc.revision, name, s+1, sc.steps, len(failed), threshold, nameSome(failed))
			obj.Status.Rollout = &setsv1.RolloutStatus{Revision: sc.revision, Step: int32(s), StepName: name, Steps: int32(sc.steps),
				StepStarted: &started, Stopped: true, Message: truncate(err.Error(), 1024)}
			conditions.MarkTrue(obj, setsv1.RolloutStoppedCondition, setsv1.RolloutStoppedReason, "%s", err)
			return steps.Stalled(setsv1.RolloutStoppedReason, err)
		}
		if len(waiting)+pending > 0 {
			err := fmt.Errorf("step %s (%d of %d) of revision %s: waiting for %d inputs to become Ready (%d more to apply): %s",
				name, s+1, sc.steps, sc.revision, len(waiting), pending, nameSome(waiting))
			obj.Status.Rollout = &setsv1.RolloutStatus{Revision: sc.revision, Step: int32(s), StepName: name, Steps: int32(sc.steps),
				StepStarted: &started, Message: truncate(err.Error(), 1024)}
			conditions.Delete(obj, setsv1.RolloutStoppedCondition)
			return steps.Waiting(setsv1.ProgressingReason, setProgressRequeue, err)
		}
	}
	obj.Status.Rollout = &setsv1.RolloutStatus{Revision: sc.revision, Step: int32(sc.steps), Steps: int32(sc.steps)}
	conditions.Delete(obj, setsv1.RolloutStoppedCondition)
	conditions.Delete(obj, setsv1.ApplyFailedCondition)
	return nil
}

// stepStarted returns when step s of the rollout of sc.revision began: when the last run
// stopped or waited at it, or now.
func stepStarted(sc *setScope, s int) metav1.Time {
	ro := sc.obj.Status.Rollout
	if ro != nil && ro.Revision == sc.revision && int(ro.Step) == s && ro.StepStarted != nil {
		return *ro.StepStarted
	}
	return metav1.NewTime(sc.now)
}

// lookAt reads the objects of the inputs that are up to date and says, per input, whether all
// are Ready, one failed, or one is still progressing.
func (r *ResourceSetReconciler) lookAt(ctx context.Context, sc *setScope, inputs []*setInput) map[string]inputState {
	var mu sync.Mutex
	out := map[string]inputState{}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(setApplyConcurrency)
	for _, in := range inputs {
		if !in.upToDate() {
			continue
		}
		g.Go(func() error {
			st := inputState{state: objReady}
			for _, o := range in.objects {
				live := &unstructured.Unstructured{}
				live.SetGroupVersionKind(o.GroupVersionKind())
				if err := sc.cluster.Client.Get(gctx, client.ObjectKeyFromObject(o), live); err != nil {
					st = inputState{state: objProgressing, msg: fmt.Sprintf("reading %s: %v", describeObject(o), err)}
					break
				}
				if s, msg := readiness(live); s != objReady {
					st = inputState{state: s, msg: fmt.Sprintf("%s: %s", describeObject(o), msg)}
					if s == objFailed {
						break
					}
				}
			}
			mu.Lock()
			out[in.name] = st
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	return out
}

// applyInputs applies each input's objects with server-side apply, after checking that no
// other owner holds one of them; an input refused or failing is marked (applyErr) and the
// others go on. An input applied gets a new record.
func (r *ResourceSetReconciler) applyInputs(ctx context.Context, sc *setScope, manager *ssa.ResourceManager, inputs []*setInput) {
	opts := ssa.DefaultApplyOptions()
	opts.ExclusionSelector = map[string]string{SSAAnnotation: "Ignore"}
	opts.IfNotPresentSelector = map[string]string{SSAAnnotation: "IfNotPresent"}
	opts.WaitTimeout = sc.obj.GetTimeout()
	seen := &ownerCache{records: map[ownerRef]*ownerRecord{}}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(setApplyConcurrency)
	var mu sync.Mutex
	for _, in := range inputs {
		g.Go(func() error {
			err := r.checkSetOwnership(gctx, sc, in, seen)
			if err == nil {
				_, err = manager.ApplyAllStaged(gctx, in.objects, opts)
				if err != nil {
					err = fmt.Errorf("input %s: %w", in.name, err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				in.applyErr = err
				return nil
			}
			in.prev = &setsv1.InputStatus{Name: in.name, Step: int32(in.step), Digest: in.digest, Objects: in.ids}
			sc.changed = append(sc.changed, in.name)
			return nil
		})
	}
	_ = g.Wait()
	var failed []string
	for _, in := range inputs {
		if in.applyErr != nil {
			failed = append(failed, in.applyErr.Error())
		}
	}
	if len(failed) > 0 {
		reason := setsv1.ApplyFailedReason
		if strings.Contains(strings.Join(failed, ""), "is owned by") {
			reason = setsv1.OwnershipConflictReason
		}
		conditions.MarkTrue(sc.obj, setsv1.ApplyFailedCondition, reason, "%d inputs were not applied: %s", len(failed), nameSome(failed))
	} else {
		conditions.Delete(sc.obj, setsv1.ApplyFailedCondition)
	}
}

// ownerCache shares the owners read while applying a set's inputs concurrently.
type ownerCache struct {
	mu      sync.Mutex
	records map[ownerRef]*ownerRecord
}

// checkSetOwnership refuses an input one of whose objects another ResourceSet, a Kustomization
// or a HelmRelease still holds (see kustomization_ownership.go), unless the object in the
// cluster is annotated kustomize.weir.dev/ownership: shared.
func (r *ResourceSetReconciler) checkSetOwnership(ctx context.Context, sc *setScope, in *setInput, seen *ownerCache) error {
	var conflicts []string
	for _, o := range in.objects {
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(o.GroupVersionKind())
		if err := sc.cluster.Client.Get(ctx, client.ObjectKeyFromObject(o), live); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return fmt.Errorf("input %s: reading %s: %w", in.name, describeObject(o), err)
		}
		if live.GetAnnotations()[OwnershipAnnotation] == OwnershipShared {
			continue
		}
		ref, ok := labelledOwner(live)
		if !ok || (ref.kind == setsv1.ResourceSetKind && ref.namespace == sc.obj.Namespace && ref.name == sc.obj.Name) {
			continue
		}
		seen.mu.Lock()
		rec, err := r.Owners.ownerRecord(ctx, seen.records, ref)
		seen.mu.Unlock()
		if err != nil {
			return fmt.Errorf("input %s: %w", in.name, err)
		}
		if _, held := rec.holds(&kustomizev1.Kustomization{}, o, live); held {
			conflicts = append(conflicts, fmt.Sprintf("%s is owned by %s, which still applies it", describeObject(live), rec.describe(ref)))
		}
	}
	if len(conflicts) > 0 {
		return fmt.Errorf("input %s: %s; nothing of it was applied", in.name, nameSome(conflicts))
	}
	return nil
}

// recordInputs writes the inputs' records and the inventory: an input applied has its new
// record, one not applied (a later step, a failure) keeps its previous one with the error,
// and the objects of inputs that disappeared stay listed until reconcileSetPrune.
func (r *ResourceSetReconciler) recordInputs(sc *setScope) {
	obj := sc.obj
	records := make([]setsv1.InputStatus, 0, len(sc.inputs))
	for _, in := range sc.inputs {
		rec := setsv1.InputStatus{Name: in.name}
		if in.prev != nil {
			rec = *in.prev
		}
		rec.Step, rec.Error = int32(in.step), ""
		switch {
		case in.renderErr != nil:
			rec.Error = truncate(in.renderErr.Error(), maxRenderErrorLen)
		case in.applyErr != nil:
			rec.Error = truncate(in.applyErr.Error(), maxRenderErrorLen)
			rec.Objects = mergeIDs(rec.Objects, in.ids) // what it may have created
		}
		records = append(records, rec)
	}
	ids := map[string]string{}
	for _, rec := range records {
		for _, id := range rec.Objects {
			ids[id] = ""
		}
	}
	// Objects of inputs that are gone, until pruned or let go.
	if obj.Status.Inventory != nil {
		for _, e := range obj.Status.Inventory.Entries {
			if _, ok := ids[e.ID]; !ok {
				ids[e.ID] = e.Version
			}
		}
	}
	obj.Status.Inputs = records
	obj.Status.Inventory = inventoryOfIDs(ids, obj.Status.Inventory, sc.inputs)
}

// inventoryOfIDs lists ids as inventory entries, with the version each was last applied with.
func inventoryOfIDs(ids map[string]string, old *meta.ResourceInventory, inputs []*setInput) *meta.ResourceInventory {
	versions := map[string]string{}
	if old != nil {
		for _, e := range old.Entries {
			versions[e.ID] = e.Version
		}
	}
	for _, in := range inputs {
		for _, o := range in.objects {
			versions[object.UnstructuredToObjMetadata(o).String()] = o.GroupVersionKind().Version
		}
	}
	inv := &meta.ResourceInventory{Entries: make([]meta.ResourceRef, 0, len(ids))}
	for id := range ids {
		inv.Entries = append(inv.Entries, meta.ResourceRef{ID: id, Version: versions[id]})
	}
	slices.SortFunc(inv.Entries, func(a, b meta.ResourceRef) int { return strings.Compare(a.ID, b.ID) })
	return inv
}

func mergeIDs(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}
