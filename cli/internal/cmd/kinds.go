package cmd

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	notificationv1 "weir.dev/api/notification/v1"
	sourcev1 "weir.dev/api/source/v1"
)

// weirKind describes one Weir kind as the commands name, read and show it.
type weirKind struct {
	// Kind is the API kind, e.g. Kustomization.
	Kind string
	// GroupVersion is the kind's API group and version.
	GroupVersion schema.GroupVersion
	// Plural is the resource name, e.g. kustomizations.
	Plural string
	// Short are the other names users type, e.g. ks.
	Short []string
	// revision returns the revision an object last reconciled, or "".
	revision func(u *unstructured.Unstructured) string
}

// weirKinds lists every Weir kind in the order `weir get all` shows them: sources first.
var weirKinds = []*weirKind{
	{Kind: "GitRepository", GroupVersion: sourcev1.GroupVersion, Plural: "gitrepositories", Short: []string{"gitrepo", "gitrepos"}, revision: artifactRevision},
	{Kind: "OCIRepository", GroupVersion: sourcev1.GroupVersion, Plural: "ocirepositories", Short: []string{"ocirepo", "ocirepos"}, revision: artifactRevision},
	{Kind: "HelmRepository", GroupVersion: sourcev1.GroupVersion, Plural: "helmrepositories", Short: []string{"helmrepo", "helmrepos"}, revision: artifactRevision},
	{Kind: "HelmChart", GroupVersion: sourcev1.GroupVersion, Plural: "helmcharts", Short: []string{"hc"}, revision: artifactRevision},
	{Kind: "Kustomization", GroupVersion: kustomizev1.GroupVersion, Plural: "kustomizations", Short: []string{"ks"}, revision: kustomizationRevision},
	{Kind: "HelmRelease", GroupVersion: helmv1.GroupVersion, Plural: "helmreleases", Short: []string{"hr"}, revision: helmReleaseRevision},
	{Kind: "Provider", GroupVersion: notificationv1.GroupVersion, Plural: "providers", revision: noRevision},
	{Kind: "Alert", GroupVersion: notificationv1.GroupVersion, Plural: "alerts", revision: noRevision},
	{Kind: "Receiver", GroupVersion: notificationv1.GroupVersion, Plural: "receivers", revision: noRevision},
}

// GVK returns the kind's group, version and kind.
func (k *weirKind) GVK() schema.GroupVersionKind { return k.GroupVersion.WithKind(k.Kind) }

// names returns every name the kind answers to, lower case.
func (k *weirKind) names() []string {
	return append([]string{strings.ToLower(k.Kind), k.Plural, k.Plural + "." + k.GroupVersion.Group}, k.Short...)
}

// New returns an empty object of the kind.
func (k *weirKind) New() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(k.GVK())
	return u
}

// NewList returns an empty list of the kind.
func (k *weirKind) NewList() *unstructured.UnstructuredList {
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(k.GroupVersion.WithKind(k.Kind + "List"))
	return l
}

// findKind resolves a kind's name, plural or short name (any case) to the kind.
func findKind(name string) (*weirKind, error) {
	n := strings.ToLower(name)
	for _, k := range weirKinds {
		for _, alias := range k.names() {
			if n == alias {
				return k, nil
			}
		}
	}
	return nil, fmt.Errorf("unknown kind %q: want one of %s", name, kindNames())
}

// kindByGVK returns the Weir kind of gvk, or nil when it is not a Weir kind.
func kindByGVK(gvk schema.GroupVersionKind) *weirKind {
	for _, k := range weirKinds {
		if k.GroupVersion.Group == gvk.Group && k.Kind == gvk.Kind {
			return k
		}
	}
	return nil
}

// isWeirGroup reports whether group is one of Weir's API groups.
func isWeirGroup(group string) bool {
	for _, k := range weirKinds {
		if k.GroupVersion.Group == group {
			return true
		}
	}
	return false
}

// kindNames lists the kinds' lower-case names and short names for messages and completion.
func kindNames() string {
	var names []string
	for _, k := range weirKinds {
		names = append(names, strings.ToLower(k.Kind))
		if len(k.Short) > 0 {
			names[len(names)-1] += " (" + k.Short[0] + ")"
		}
	}
	return strings.Join(names, ", ")
}

// kindCompletions returns the kinds' names for shell completion.
func kindCompletions(withAll bool) []string {
	var names []string
	for _, k := range weirKinds {
		names = append(names, strings.ToLower(k.Kind))
	}
	if withAll {
		names = append(names, "all")
	}
	sort.Strings(names)
	return names
}

func artifactRevision(u *unstructured.Unstructured) string {
	rev, _, _ := unstructured.NestedString(u.Object, "status", "artifact", "revision")
	return rev
}

func kustomizationRevision(u *unstructured.Unstructured) string {
	if rev, _, _ := unstructured.NestedString(u.Object, "status", "lastAppliedRevision"); rev != "" {
		return rev
	}
	rev, _, _ := unstructured.NestedString(u.Object, "status", "lastAttemptedRevision")
	return rev
}

// helmReleaseRevision is the chart version of the newest release, or the last attempted
// revision before any release.
func helmReleaseRevision(u *unstructured.Unstructured) string {
	history, _, _ := unstructured.NestedSlice(u.Object, "status", "history")
	if len(history) > 0 {
		if latest, ok := history[0].(map[string]any); ok {
			if v, _, _ := unstructured.NestedString(latest, "chartVersion"); v != "" {
				return v
			}
		}
	}
	rev, _, _ := unstructured.NestedString(u.Object, "status", "lastAttemptedRevision")
	return rev
}

func noRevision(*unstructured.Unstructured) string { return "" }
