package controller

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling"
	"github.com/fluxcd/cli-utils/pkg/object"
	"github.com/fluxcd/pkg/ssa"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/pkg/drift"
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

// observingClient remembers the objects read while observing is on, the resourceVersion
// each had after the last read or write (for skipping unchanged reconciles), and which ones
// a write (not a dry run) succeeded on.
//
// It also hands out, once each, the reads prefetch made before the apply (see
// kustomization_ownership.go), so the apply reads no object twice.
type observingClient struct {
	client.Client
	// poller is the status poller of the same identity, for health waits to report progress.
	poller *polling.StatusPoller
	// identity is whom the client acts as and where: the API server's URL and the user
	// impersonated, if any.
	identity   string
	mu         sync.Mutex
	on         bool
	reads      map[object.ObjMetadata]*unstructured.Unstructured
	versions   map[object.ObjMetadata]string
	written    map[object.ObjMetadata]bool
	prefetched map[prefetchKey]prefetched
}

func (c *observingClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	served, err := c.takePrefetched(key, obj)
	if !served {
		err = c.Client.Get(ctx, key, obj, opts...)
	}
	if u, ok := obj.(*unstructured.Unstructured); ok && err == nil {
		c.mu.Lock()
		if c.on {
			if c.reads == nil {
				c.reads = map[object.ObjMetadata]*unstructured.Unstructured{}
			}
			id := object.UnstructuredToObjMetadata(u)
			c.reads[id] = u.DeepCopy()
			c.setVersion(id, u.GetResourceVersion())
		}
		c.mu.Unlock()
	}
	return err
}

// Patch records the resourceVersion a write left the object with; a dry run writes nothing.
func (c *observingClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	err := c.Client.Patch(ctx, obj, patch, opts...)
	u, ok := obj.(*unstructured.Unstructured)
	if err != nil || !ok {
		return err
	}
	po := &client.PatchOptions{}
	po.ApplyOptions(opts)
	if len(po.DryRun) > 0 {
		return nil
	}
	c.mu.Lock()
	if c.on {
		id := object.UnstructuredToObjMetadata(u)
		c.setVersion(id, u.GetResourceVersion())
		if c.written == nil {
			c.written = map[object.ObjMetadata]bool{}
		}
		c.written[id] = true
	}
	c.mu.Unlock()
	return nil
}

// wrote reports whether a write to id succeeded while observing.
func (c *observingClient) wrote(id object.ObjMetadata) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.written[id]
}

// setVersion records id's resourceVersion; c.mu is held.
func (c *observingClient) setVersion(id object.ObjMetadata, v string) {
	if c.versions == nil {
		c.versions = map[object.ObjMetadata]string{}
	}
	c.versions[id] = v
}

// version is id's resourceVersion after the last read or write observed, "" when none was.
func (c *observingClient) version(id object.ObjMetadata) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.versions[id]
}

// observe turns remembering on or off; turning it on forgets what was read before.
func (c *observingClient) observe(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.on = on
	c.prefetched = nil
	if on {
		c.reads, c.versions, c.written = nil, nil, nil
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
		fields := drift.ManagedFields(live, owner)
		byManager := map[string][]string{}
		for _, path := range drift.DifferingPaths(drift.AsStored(want).Object, live.Object) {
			manager := fields.OwnerOf(path, owner)
			if manager == "" && fields.Owns(owner, path) {
				continue // still ours: Git changed it
			}
			if manager == "" {
				if !sameSet {
					continue // a field new in Git
				}
				manager = unknownManager
			}
			byManager[manager] = append(byManager[manager], drift.FormatPath(path))
		}
		for _, m := range slices.Sorted(maps.Keys(byManager)) {
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
