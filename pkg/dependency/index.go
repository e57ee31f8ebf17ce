package dependency

import "sigs.k8s.io/controller-runtime/pkg/client"

// The dependents of an object are found through a field index on their kind whose values
// are the dependencies' keys, Kind/namespace/name: IndexKeys indexes a dependent, IndexKey
// looks up those of a dependency.

// IndexKeys are the index values of a dependent's refs.
func IndexKeys(refs []Ref) []string {
	keys := make([]string, 0, len(refs))
	for _, r := range refs {
		keys = append(keys, r.short())
	}
	return keys
}

// IndexKey is the index value under which the dependents of obj, of kind, are found.
func IndexKey(kind string, obj client.Object) string {
	return Ref{Kind: kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}.short()
}
