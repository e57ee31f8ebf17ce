package controller

import (
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	"weir.dev/pkg/predicates"
)

// secretIndex indexes Providers and Receivers by the names of the Secrets they reference.
const secretIndex = ".spec.secretRefs"

// referrers maps a Secret to the objects of list's kind in its namespace that reference it.
func referrers(c client.Reader, list client.ObjectList) handler.MapFunc {
	return predicates.RequestsByIndexOf(c, list, secretIndex, predicates.Name, predicates.SameNamespace)
}
