package migrate

import (
	"fmt"
	"slices"
	"strings"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
	sourcev1 "weir.dev/api/source/v1"
)

// group is the Weir API group a Flux group maps to, with the kinds Weir has in it.
type group struct {
	apiVersion string
	kinds      []string
}

// groups maps Flux's API groups to Weir's; any other *.fluxcd.io group has no equivalent.
var groups = map[string]group{
	"source.toolkit.fluxcd.io":       {sourcev1.GroupVersion.String(), []string{"GitRepository", "OCIRepository", "HelmRepository", "HelmChart", "ExternalArtifact"}},
	"source.extensions.fluxcd.io":    {sourcev1.GroupVersion.String(), []string{"ArtifactGenerator"}},
	"kustomize.toolkit.fluxcd.io":    {kustomizev1.GroupVersion.String(), []string{"Kustomization"}},
	"helm.toolkit.fluxcd.io":         {helmv1.GroupVersion.String(), []string{"HelmRelease"}},
	"notification.toolkit.fluxcd.io": {notificationv1.GroupVersion.String(), []string{"Provider", "Alert", "Receiver"}},
}

// keys maps the Flux annotation and label keys Weir reads to Weir's.
var keys = map[string]string{
	"reconcile.fluxcd.io/requestedAt":        meta.ReconcileRequestAnnotation,
	"reconcile.fluxcd.io/forceAt":            helmv1.ForceRequestAnnotation,
	"reconcile.fluxcd.io/resetAt":            helmv1.ResetRequestAnnotation,
	"reconcile.fluxcd.io/watch":              meta.WatchLabel,
	"sharding.fluxcd.io/key":                 meta.ShardKeyLabel,
	"kustomize.toolkit.fluxcd.io/name":       "kustomize.weir.dev/name",
	"kustomize.toolkit.fluxcd.io/namespace":  "kustomize.weir.dev/namespace",
	"kustomize.toolkit.fluxcd.io/prune":      "kustomize.weir.dev/prune",
	"kustomize.toolkit.fluxcd.io/ssa":        "kustomize.weir.dev/ssa",
	"kustomize.toolkit.fluxcd.io/substitute": "kustomize.weir.dev/substitute",
	"helm.toolkit.fluxcd.io/name":            helmv1.OwnerNameLabel,
	"helm.toolkit.fluxcd.io/namespace":       helmv1.OwnerNamespaceLabel,
}

// mapAPIVersion returns Weir's apiVersion for a Flux apiVersion and kind (kind may be empty in
// a reference that omits it). ok is false when apiVersion is not Flux's; problem is set when it
// is but does not map.
func mapAPIVersion(apiVersion, kind string) (weir, problem string, ok bool) {
	g, _, _ := strings.Cut(apiVersion, "/")
	if !isFlux(g) {
		return "", "", false
	}
	to, known := groups[g]
	switch {
	case !known:
		return "", fmt.Sprintf("apiVersion %s (kind %s) has no Weir equivalent", apiVersion, orUnknown(kind)), true
	case kind != "" && !slices.Contains(to.kinds, kind):
		return "", fmt.Sprintf("kind %s of %s has no Weir equivalent (Weir has %s)", kind, g, strings.Join(to.kinds, ", ")), true
	}
	return to.apiVersion, "", true
}

// mapGroup returns Weir's group for a Flux group, as a patch target names it.
func mapGroup(g string) (weir, problem string, ok bool) {
	if !isFlux(g) {
		return "", "", false
	}
	to, known := groups[g]
	if !known {
		return "", fmt.Sprintf("group %s has no Weir equivalent", g), true
	}
	weir, _, _ = strings.Cut(to.apiVersion, "/")
	return weir, "", true
}

// mapKey returns Weir's key for a Flux annotation or label key.
func mapKey(key string) (weir, problem string, ok bool) {
	prefix, _, found := strings.Cut(key, "/")
	if !found || !isFlux(prefix) {
		return "", "", false
	}
	if to, known := keys[key]; known {
		return to, "", true
	}
	return "", fmt.Sprintf("%s has no Weir equivalent", key), true
}

func isFlux(group string) bool { return group == "fluxcd.io" || strings.HasSuffix(group, ".fluxcd.io") }

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
