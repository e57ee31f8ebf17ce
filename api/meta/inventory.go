package meta

// ResourceInventory lists the objects a Kustomization or HelmRelease applied in its last
// successful reconciliation. Prune and uninstall consider only the objects listed here.
type ResourceInventory struct {
	// Entries are the applied objects, one per object.
	// +required
	Entries []ResourceRef `json:"entries"`
}

// ResourceRef identifies one applied object.
type ResourceRef struct {
	// ID is `<namespace>_<name>_<group>_<kind>`, with an empty namespace for cluster-scoped
	// objects and an empty group for the core group.
	// +required
	ID string `json:"id"`

	// Version is the API version the object was applied with.
	// +required
	Version string `json:"v"`
}
