package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/fluxcd/pkg/runtime/conditions"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// statusPatcher writes a frame's object: its metadata (finalizers, labels, annotations) in one
// merge patch, and its whole status, conditions included, in ONE merge patch of the status
// subresource, so that no reader ever sees conditions from one reconcile beside
// observedGeneration, counters or history from another.
//
// fluxcd/pkg/runtime/patch writes conditions and the rest of status in two requests (the
// conditions first, re-read and merged under owned-condition rules, then the rest), which is
// what let readers see a half-written status. Here the status patch carries the object's
// resourceVersion (optimistic lock): it applies only to the status the patcher last knew, so
// sending the conditions list whole is safe. On a conflict the patcher reads the object again,
// applies this reconcile's changes to it (conditions the controller owns are overwritten; a
// change to another writer's condition that the other writer also changed is an error, as with
// the Flux helper) and tries again, still in one request.
//
// spec is never written: a controller does not change its objects' spec.
type statusPatcher struct {
	reader client.Reader
	client client.Client
	owner  string
	owned  []string
	// before is the object as last written (or read): the base of the next diff.
	before client.Object
	// rv is the resourceVersion the server holds for before's status, "" when unknown
	// (after a metadata patch): the next status patch then reads the object first.
	rv string
}

func newStatusPatcher(obj client.Object, reader client.Reader, c client.Client, owner string, owned []string) *statusPatcher {
	return &statusPatcher{reader: reader, client: c, owner: owner, owned: owned,
		before: obj.DeepCopyObject().(client.Object), rv: obj.GetResourceVersion()}
}

// conflictBackoff paces the retries of a status patch that met another writer's change.
var conflictBackoff = wait.Backoff{Steps: 6, Duration: 50 * time.Millisecond, Factor: 2, Jitter: 0.5}

// Patch writes obj's changes since the last Patch: metadata first, then status, each in one
// request.
func (p *statusPatcher) Patch(ctx context.Context, obj client.Object) error {
	if err := p.patchMetadata(ctx, obj); err != nil {
		return err
	}
	if err := p.patchStatus(ctx, obj); err != nil {
		return err
	}
	p.before = obj.DeepCopyObject().(client.Object)
	return nil
}

// metadataFields are the parts of metadata a controller changes on its own objects.
var metadataFields = []string{"finalizers", "labels", "annotations", "ownerReferences"}

func (p *statusPatcher) patchMetadata(ctx context.Context, obj client.Object) error {
	before, err := section(p.before, "metadata", metadataFields...)
	if err != nil {
		return err
	}
	after, err := section(obj, "metadata", metadataFields...)
	if err != nil {
		return err
	}
	data, err := mergePatch(before, after)
	if err != nil || data == nil {
		return err
	}
	scratch := obj.DeepCopyObject().(client.Object)
	if err := p.client.Patch(ctx, scratch, client.RawPatch(types.MergePatchType, data), client.FieldOwner(p.owner)); err != nil {
		return err
	}
	// The write moved the resourceVersion past what the patcher knows of the status.
	p.rv = ""
	obj.SetResourceVersion(scratch.GetResourceVersion())
	return nil
}

func (p *statusPatcher) patchStatus(ctx context.Context, obj client.Object) error {
	after, err := section(obj, "status")
	if err != nil {
		return err
	}
	changed, err := p.statusChange(after)
	if err != nil {
		return err
	}
	condDiff, isSetter := conditionsDiff(p.before, obj)
	if len(changed) == 0 && (condDiff == nil || condDiff.IsZero()) {
		return nil
	}
	latest := p.before.DeepCopyObject().(client.Object)
	rv := p.rv
	first := true
	return retry.OnError(conflictBackoff, apierrors.IsConflict, func() error {
		if !first || rv == "" {
			if err := p.reader.Get(ctx, client.ObjectKeyFromObject(obj), latest); err != nil {
				return err
			}
			rv = latest.GetResourceVersion()
		}
		first = false
		target := latest.DeepCopyObject().(client.Object)
		if isSetter && condDiff != nil && !condDiff.IsZero() {
			if err := condDiff.Apply(target.(conditions.Setter), conditions.WithOwnedConditions(p.owned...)); err != nil {
				return fmt.Errorf("merging the status conditions with another writer's: %w", err)
			}
		}
		if isSetter && latest.GetResourceVersion() != p.before.GetResourceVersion() {
			ownConditions(target.(conditions.Setter), obj.(conditions.Getter), p.owned)
		}
		base, err := section(latest, "status")
		if err != nil {
			return err
		}
		want, err := section(target, "status")
		if err != nil {
			return err
		}
		// This reconcile's value of each status field it changed replaces the field whole.
		ws, as := want["status"].(map[string]any), after["status"].(map[string]any)
		for _, k := range changed {
			if v, ok := as[k]; ok {
				ws[k] = v
			} else {
				delete(ws, k)
			}
		}
		data, err := mergePatch(base, want)
		if err != nil || data == nil {
			return err
		}
		if data, err = withResourceVersion(data, rv); err != nil {
			return err
		}
		scratch := obj.DeepCopyObject().(client.Object)
		err = p.client.Status().Patch(ctx, scratch, client.RawPatch(types.MergePatchType, data),
			&client.SubResourcePatchOptions{PatchOptions: client.PatchOptions{FieldManager: p.owner}})
		if err != nil {
			return err
		}
		p.rv = scratch.GetResourceVersion()
		obj.SetResourceVersion(p.rv)
		return nil
	})
}

// ownConditions sets the conditions the controller owns to this reconcile's values (absent
// ones removed). The read the reconcile started from may have been stale, a cache behind the
// controller's own previous write: a diff against it misses an owned condition the previous
// run changed and this one changed back (HealthCheckInProgress, then HealthCheckCanceled, then
// HealthCheckInProgress again), which would leave the previous run's value in place. The
// controller is the only writer of those conditions and this reconcile is its newest word.
func ownConditions(target conditions.Setter, want conditions.Getter, owned []string) {
	for _, t := range owned {
		if c := conditions.Get(want, t); c != nil {
			conditions.Set(target, c)
		} else {
			conditions.Delete(target, t)
		}
	}
}

// statusChange lists the top-level status fields but conditions that differ between the last
// Patch and after (obj's status section).
func (p *statusPatcher) statusChange(after map[string]any) ([]string, error) {
	before, err := section(p.before, "status")
	if err != nil {
		return nil, err
	}
	bs, as := before["status"].(map[string]any), after["status"].(map[string]any)
	var changed []string
	for k, v := range as {
		if k != "conditions" && !equality.Semantic.DeepEqual(v, bs[k]) {
			changed = append(changed, k)
		}
	}
	for k := range bs {
		if _, ok := as[k]; !ok && k != "conditions" {
			changed = append(changed, k)
		}
	}
	return changed, nil
}

// conditionsDiff is the change to the conditions from before to after; isSetter is false for
// an object without conditions.
func conditionsDiff(before, after client.Object) (conditions.Patch, bool) {
	b, ok1 := before.(conditions.Getter)
	a, ok2 := after.(conditions.Getter)
	if !ok1 || !ok2 {
		return nil, false
	}
	return conditions.NewPatch(b, a), true
}

// section is {key: obj[key]} in unstructured form, with only fields of it when given.
func section(obj client.Object, key string, fields ...string) (map[string]any, error) {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	v, _ := u[key].(map[string]any)
	if v == nil {
		v = map[string]any{}
	}
	if len(fields) > 0 {
		only := map[string]any{}
		for _, f := range fields {
			if x, ok := v[f]; ok {
				only[f] = x
			}
		}
		v = only
	}
	return map[string]any{key: v}, nil
}

// mergePatch is the JSON merge patch from before to after, nil when they are equal.
func mergePatch(before, after map[string]any) ([]byte, error) {
	b, err := json.Marshal(before)
	if err != nil {
		return nil, err
	}
	a, err := json.Marshal(after)
	if err != nil {
		return nil, err
	}
	data, err := jsonpatch.CreateMergePatch(b, a)
	if err != nil {
		return nil, err
	}
	if string(data) == "{}" {
		return nil, nil
	}
	return data, nil
}

// withResourceVersion adds metadata.resourceVersion to a merge patch: the API server then
// applies it only to that version and answers Conflict otherwise.
func withResourceVersion(data []byte, rv string) ([]byte, error) {
	doc := map[string]any{}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	doc["metadata"] = map[string]any{"resourceVersion": rv}
	return json.Marshal(doc)
}
