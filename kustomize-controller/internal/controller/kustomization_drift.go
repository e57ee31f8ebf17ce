package controller

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fluxcd/cli-utils/pkg/object"
	"github.com/fluxcd/pkg/ssa"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
)

// Drift detection costs no API call: the apply engine reads every object before its dry run,
// and observingClient keeps what it read. After the apply, an object the engine had to change
// is compared with that earlier copy. A field counts as drifted when its live value differed
// from the desired one and either another field manager owned it (someone wrote it after our
// last apply; a Git change leaves our ownership in place) or the desired set is the one last
// applied (so nothing but the cluster can have changed). Only field paths are recorded, never
// values.

// Bounds of a drift report, so a mass edit cannot bloat the status.
const (
	maxDriftObjects = 20
	maxDriftFields  = 20
)

// unknownManager names the writer of a drifted field no manager owns any more (it was removed).
const unknownManager = "unknown"

// observingClient remembers the objects read while observing is on.
type observingClient struct {
	client.Client
	mu    sync.Mutex
	on    bool
	reads map[object.ObjMetadata]*unstructured.Unstructured
}

func (c *observingClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	err := c.Client.Get(ctx, key, obj, opts...)
	if u, ok := obj.(*unstructured.Unstructured); ok && err == nil {
		c.mu.Lock()
		if c.on {
			if c.reads == nil {
				c.reads = map[object.ObjMetadata]*unstructured.Unstructured{}
			}
			c.reads[object.UnstructuredToObjMetadata(u)] = u.DeepCopy()
		}
		c.mu.Unlock()
	}
	return err
}

// observe turns remembering on or off; turning it on forgets what was read before.
func (c *observingClient) observe(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.on = on
	if on {
		c.reads = nil
	}
}

func (c *observingClient) read(id object.ObjMetadata) *unstructured.Unstructured {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reads[id]
}

// detectDrift returns the drift the apply just corrected, sorted by object then manager.
// sameSet says the desired set is the one last applied successfully.
func detectDrift(observed *observingClient, desired []*unstructured.Unstructured, changes *ssa.ChangeSet, owner string, sameSet bool, now time.Time) []kustomizev1.DriftedObject {
	if changes == nil {
		return nil
	}
	byID := make(map[object.ObjMetadata]*unstructured.Unstructured, len(desired))
	for _, o := range desired {
		byID[object.UnstructuredToObjMetadata(o)] = o
	}
	var out []kustomizev1.DriftedObject
	for _, e := range changes.Entries {
		if e.Action != ssa.ConfiguredAction {
			continue
		}
		want, live := byID[e.ObjMetadata], observed.read(e.ObjMetadata)
		if want == nil || live == nil {
			continue
		}
		fields := managedFieldsByManager(live, owner)
		byManager := map[string][]string{}
		for _, path := range differingPaths(asStored(want).Object, live.Object) {
			manager := ""
			for _, m := range sortedManagers(fields) {
				if m != owner && fieldsOwn(fields[m], path) {
					manager = m
					break
				}
			}
			if manager == "" && fieldsOwn(fields[owner], path) {
				continue // still ours: Git changed it
			}
			if manager == "" {
				if !sameSet {
					continue // a field new in Git
				}
				manager = unknownManager
			}
			byManager[manager] = append(byManager[manager], formatPath(path))
		}
		for _, m := range sortedKeys(byManager) {
			paths := byManager[m]
			if len(paths) > maxDriftFields {
				paths = append(paths[:maxDriftFields], fmt.Sprintf("and %d more", len(paths)-maxDriftFields))
			}
			out = append(out, kustomizev1.DriftedObject{
				ID: e.ObjMetadata.String(), Fields: paths, Manager: m, DetectedAt: metav1.NewTime(now),
			})
		}
		if len(out) >= maxDriftObjects {
			break
		}
	}
	return out
}

// differingPaths lists the paths of desired's fields whose value differs in live. Lists are
// compared whole. Status and server-set metadata are not desired state.
func differingPaths(desired, live map[string]any) [][]string {
	var out [][]string
	var walk func(path []string, want, got any)
	walk = func(path []string, want, got any) {
		wm, ok := want.(map[string]any)
		if !ok {
			if !reflect.DeepEqual(normalize(want), normalize(got)) {
				out = append(out, slices.Clone(path))
			}
			return
		}
		gm, _ := got.(map[string]any)
		for _, k := range sortedKeys(wm) {
			walk(append(path, k), wm[k], gm[k])
		}
	}
	for _, k := range sortedKeys(desired) {
		switch k {
		case "apiVersion", "kind", "status":
			continue
		case "metadata":
			wm, _ := desired[k].(map[string]any)
			lm, _ := live[k].(map[string]any)
			for _, mk := range []string{"labels", "annotations"} {
				walk([]string{k, mk}, wm[mk], lm[mk])
			}
		default:
			walk([]string{k}, desired[k], live[k])
		}
	}
	return out
}

// asStored returns the desired object as the API server stores it: a Secret's stringData is
// moved into data, base64-encoded, as the server does on write.
func asStored(desired *unstructured.Unstructured) *unstructured.Unstructured {
	gvk := desired.GroupVersionKind()
	stringData, ok := desired.Object["stringData"].(map[string]any)
	if gvk.Group != "" || gvk.Kind != "Secret" || !ok {
		return desired
	}
	out := desired.DeepCopy()
	data, _ := out.Object["data"].(map[string]any)
	if data == nil {
		data = map[string]any{}
	}
	for k, v := range stringData {
		if str, ok := v.(string); ok {
			data[k] = base64.StdEncoding.EncodeToString([]byte(str))
		}
	}
	out.Object["data"] = data
	delete(out.Object, "stringData")
	return out
}

// normalize makes numbers decoded from YAML and from JSON compare equal.
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// managedFieldsByManager decodes live's managed fields per manager, merging a manager's
// operations; the owner's Apply entry is kept under owner.
func managedFieldsByManager(live *unstructured.Unstructured, owner string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, mf := range live.GetManagedFields() {
		if mf.FieldsV1 == nil || mf.Subresource != "" {
			continue
		}
		var fields map[string]any
		if err := json.Unmarshal(mf.FieldsV1.Raw, &fields); err != nil {
			continue
		}
		name := mf.Manager
		if name == owner && mf.Operation != metav1.ManagedFieldsOperationApply {
			name = owner + " (update)"
		}
		if out[name] == nil {
			out[name] = fields
			continue
		}
		mergeFields(out[name], fields)
	}
	return out
}

func mergeFields(dst, src map[string]any) {
	for k, v := range src {
		dm, ok1 := dst[k].(map[string]any)
		sm, ok2 := v.(map[string]any)
		if ok1 && ok2 {
			mergeFields(dm, sm)
			continue
		}
		dst[k] = v
	}
}

// fieldsOwn reports whether a managedFields set owns path or part of it (for lists, any element).
func fieldsOwn(fields map[string]any, path []string) bool {
	cur := fields
	for _, seg := range path {
		next, ok := cur["f:"+seg].(map[string]any)
		if !ok {
			return false
		}
		cur = next
	}
	return true
}

func sortedManagers(fields map[string]map[string]any) []string {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// formatPath renders a path as `.spec.replicas`, quoting keys that are not identifiers.
func formatPath(path []string) string {
	var b strings.Builder
	for _, seg := range path {
		if strings.ContainsAny(seg, ".[]\" /") {
			fmt.Fprintf(&b, "[%q]", seg)
			continue
		}
		b.WriteString(".")
		b.WriteString(seg)
	}
	return b.String()
}

// describeDrift is the Drift event's message: each object with its fields and manager.
func describeDrift(drift []kustomizev1.DriftedObject) string {
	parts := make([]string, 0, len(drift))
	for _, d := range drift {
		subject := d.ID
		if id, err := object.ParseObjMetadata(d.ID); err == nil {
			subject = fmt.Sprintf("%s/%s/%s", id.GroupKind.Kind, id.Namespace, id.Name)
			if id.Namespace == "" {
				subject = fmt.Sprintf("%s/%s", id.GroupKind.Kind, id.Name)
			}
		}
		parts = append(parts, fmt.Sprintf("%s %s (by %s)", subject, strings.Join(d.Fields, ", "), d.Manager))
	}
	return "corrected drift: " + strings.Join(parts, "; ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
