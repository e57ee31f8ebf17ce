package objects

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	notificationv1 "weir.dev/api/notification/v1"
	setsv1 "weir.dev/api/sets/v1"
	sourcev1 "weir.dev/api/source/v1"
)

// Kind describes one Weir kind as the CLI and the UI name, read and show it.
type Kind struct {
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

// Kinds lists every Weir kind in the order `weir get all` shows them: sources first.
var Kinds = []*Kind{
	{Kind: "GitRepository", GroupVersion: sourcev1.GroupVersion, Plural: "gitrepositories", Short: []string{"gitrepo", "gitrepos"}, revision: artifactRevision},
	{Kind: "OCIRepository", GroupVersion: sourcev1.GroupVersion, Plural: "ocirepositories", Short: []string{"ocirepo", "ocirepos"}, revision: artifactRevision},
	{Kind: "HelmRepository", GroupVersion: sourcev1.GroupVersion, Plural: "helmrepositories", Short: []string{"helmrepo", "helmrepos"}, revision: artifactRevision},
	{Kind: "HelmChart", GroupVersion: sourcev1.GroupVersion, Plural: "helmcharts", Short: []string{"hc"}, revision: artifactRevision},
	{Kind: "ArtifactGenerator", GroupVersion: sourcev1.GroupVersion, Plural: "artifactgenerators", Short: []string{"ag"}, revision: noRevision},
	{Kind: "ExternalArtifact", GroupVersion: sourcev1.GroupVersion, Plural: "externalartifacts", Short: []string{"ea"}, revision: artifactRevision},
	{Kind: "Kustomization", GroupVersion: kustomizev1.GroupVersion, Plural: "kustomizations", Short: []string{"ks"}, revision: kustomizationRevision},
	{Kind: "HelmRelease", GroupVersion: helmv1.GroupVersion, Plural: "helmreleases", Short: []string{"hr"}, revision: helmReleaseRevision},
	{Kind: "ResourceSet", GroupVersion: setsv1.GroupVersion, Plural: "resourcesets", Short: []string{"rset", "set"}, revision: kustomizationRevision},
	{Kind: "Provider", GroupVersion: notificationv1.GroupVersion, Plural: "providers", revision: noRevision},
	{Kind: "Alert", GroupVersion: notificationv1.GroupVersion, Plural: "alerts", revision: noRevision},
	{Kind: "Receiver", GroupVersion: notificationv1.GroupVersion, Plural: "receivers", revision: noRevision},
}

// Revision returns the revision u last reconciled, or "".
func (k *Kind) Revision(u *unstructured.Unstructured) string { return k.revision(u) }

// Resource returns the kind's group, version and resource.
func (k *Kind) Resource() schema.GroupVersionResource { return k.GroupVersion.WithResource(k.Plural) }

// GVK returns the kind's group, version and kind.
func (k *Kind) GVK() schema.GroupVersionKind { return k.GroupVersion.WithKind(k.Kind) }

// names returns every name the kind answers to, lower case.
func (k *Kind) names() []string {
	return append([]string{strings.ToLower(k.Kind), k.Plural, k.Plural + "." + k.GroupVersion.Group}, k.Short...)
}

// New returns an empty object of the kind.
func (k *Kind) New() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(k.GVK())
	return u
}

// NewList returns an empty list of the kind.
func (k *Kind) NewList() *unstructured.UnstructuredList {
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(k.GroupVersion.WithKind(k.Kind + "List"))
	return l
}

// FindKind resolves a kind's name, plural or short name (any case) to the kind.
func FindKind(name string) (*Kind, error) {
	n := strings.ToLower(name)
	for _, k := range Kinds {
		for _, alias := range k.names() {
			if n == alias {
				return k, nil
			}
		}
	}
	return nil, fmt.Errorf("unknown kind %q: want one of %s", name, KindNames())
}

// KindByGVK returns the Weir kind of gvk, or nil when it is not a Weir kind.
func KindByGVK(gvk schema.GroupVersionKind) *Kind {
	for _, k := range Kinds {
		if k.GroupVersion.Group == gvk.Group && k.Kind == gvk.Kind {
			return k
		}
	}
	return nil
}

// IsWeirGroup reports whether group is one of Weir's API groups.
func IsWeirGroup(group string) bool {
	for _, k := range Kinds {
		if k.GroupVersion.Group == group {
			return true
		}
	}
	return false
}

// KindNames lists the kinds' lower-case names and short names for messages and completion.
func KindNames() string {
	var names []string
	for _, k := range Kinds {
		names = append(names, strings.ToLower(k.Kind))
		if len(k.Short) > 0 {
			names[len(names)-1] += " (" + k.Short[0] + ")"
		}
	}
	return strings.Join(names, ", ")
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
