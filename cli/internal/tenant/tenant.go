// Package tenant builds the objects that make namespaces a tenant's under the lockdown
// component (deploy/components/lockdown): the Namespaces, a ServiceAccount in each that the
// tenant's Kustomizations and HelmReleases act as, and a RoleBinding granting it a role in that
// namespace alone. Nothing else is cluster-scoped: a tenant gets no cluster-wide rights.
package tenant

import (
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Label is set on every object of a tenant to the tenant's name.
const Label = "tenant.weir.dev/name"

// Tenant says who a tenant is and where it may act.
type Tenant struct {
	// Name names the tenant: the value of Label, and the RoleBinding's name.
	Name string
	// Namespaces are the tenant's namespaces, created when missing.
	Namespaces []string
	// ServiceAccount is the account the tenant's objects act as; Name when empty.
	ServiceAccount string
	// Role is the role bound in each namespace; the ClusterRole `admin` when empty, which a
	// RoleBinding confines to its namespace (and into which Weir's `weir-edit` aggregates).
	Role *rbacv1.RoleRef
}

// AdminRole is the built-in ClusterRole a tenant is bound to by default.
var AdminRole = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "admin"}

// Objects returns, for each namespace in order, its Namespace, ServiceAccount and RoleBinding,
// with apiVersion and kind set.
func Objects(t Tenant) ([]client.Object, error) {
	if errs := validation.IsDNS1123Label(t.Name); len(errs) > 0 {
		return nil, fmt.Errorf("tenant name %q: %s", t.Name, errs[0])
	}
	sa := t.ServiceAccount
	if sa == "" {
		sa = t.Name
	}
	if errs := validation.IsDNS1123Subdomain(sa); len(errs) > 0 {
		return nil, fmt.Errorf("ServiceAccount name %q: %s", sa, errs[0])
	}
	if len(t.Namespaces) == 0 {
		return nil, errors.New("a tenant needs at least one namespace (--with-namespace)")
	}
	role := AdminRole
	if t.Role != nil {
		role = *t.Role
	}
	labels := map[string]string{Label: t.Name}
	seen := map[string]bool{}
	var objs []client.Object
	for _, ns := range t.Namespaces {
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return nil, fmt.Errorf("namespace %q: %s", ns, errs[0])
		}
		if seen[ns] {
			return nil, fmt.Errorf("namespace %q is given twice", ns)
		}
		seen[ns] = true
		n := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: labels}}
		n.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
		s := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sa, Labels: labels}}
		s.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ServiceAccount"))
		rb := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: t.Name, Labels: labels},
			RoleRef:    role,
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa, Namespace: ns}},
		}
		rb.SetGroupVersionKind(rbacv1.SchemeGroupVersion.WithKind("RoleBinding"))
		objs = append(objs, n, s, rb)
	}
	return objs, nil
}
