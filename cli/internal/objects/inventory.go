package objects

import (
	"fmt"
	"strings"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// InventoryEntry is one object of a Kustomization's or HelmRelease's status.inventory.
type InventoryEntry struct {
	// ID is the entry as stored, `<namespace>_<name>_<group>_<kind>`.
	ID string
	// Version is the API version the object was applied with.
	Version string
}

// Inventory returns the entries of u's status.inventory, in their order.
func Inventory(u *unstructured.Unstructured) []InventoryEntry {
	raw, _, _ := unstructured.NestedSlice(u.Object, "status", "inventory", "entries")
	out := make([]InventoryEntry, 0, len(raw))
	for _, e := range raw {
		entry, _ := e.(map[string]any)
		id, _, _ := unstructured.NestedString(entry, "id")
		version, _, _ := unstructured.NestedString(entry, "v")
		out = append(out, InventoryEntry{ID: id, Version: version})
	}
	return out
}

// ParseInventoryID splits an inventory id, `<namespace>_<name>_<group>_<kind>`.
func ParseInventoryID(id string) (namespace, name string, gk schema.GroupKind, err error) {
	parts := strings.Split(id, "_")
	if len(parts) != 4 || parts[1] == "" || parts[3] == "" {
		return "", "", gk, fmt.Errorf("malformed inventory entry %q", id)
	}
	return parts[0], parts[1], schema.GroupKind{Group: parts[2], Kind: parts[3]}, nil
}

// Ref is `<Kind>/<namespace>/<name>`, or `<Kind>/<name>` for a cluster-scoped object.
func Ref(u *unstructured.Unstructured) string {
	if u.GetNamespace() == "" {
		return u.GetKind() + "/" + u.GetName()
	}
	return u.GetKind() + "/" + u.GetNamespace() + "/" + u.GetName()
}

// Expandable reports whether an object of gvk has an inventory of its own: a Kustomization,
// a HelmRelease or a ResourceSet.
func Expandable(gvk schema.GroupVersionKind) bool {
	k := KindByGVK(gvk)
	return k != nil && (k.Kind == "Kustomization" || k.Kind == "HelmRelease" || k.Kind == "ResourceSet")
}

// Health is the kstatus status of the live object, and its message.
func Health(u *unstructured.Unstructured) (status.Status, string) {
	res, err := status.Compute(u)
	if err != nil {
		return status.UnknownStatus, err.Error()
	}
	return res.Status, res.Message
}
