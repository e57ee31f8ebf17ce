package manifest

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
)

// Kustomization is `weir create kustomization`.
type Kustomization struct {
	Meta
	// Source is `[Kind/]name[.namespace]`, GitRepository when no kind is given.
	Source string
	Path   string
	Prune  bool
	Wait   bool
	Force  bool
	// DependsOn are `name[.namespace]` of Kustomizations.
	DependsOn []string
	// HealthChecks are `Kind/name[.namespace]` of objects whose health gates Ready.
	HealthChecks       []string
	TargetNamespace    string
	ServiceAccount     string
	DecryptionProvider string
	DecryptionSecret   string
	Interval           time.Duration
	RetryInterval      time.Duration
}

// Objects returns the Kustomization.
func (k Kustomization) Objects() ([]Object, error) {
	om, err := k.objectMeta("Kustomization")
	if err != nil {
		return nil, err
	}
	if k.Source == "" {
		return nil, errors.New("--source is required: the GitRepository or OCIRepository with the manifests, e.g. --source GitRepository/app")
	}
	src, err := parseRef(refSpec{flag: "source", kinds: []string{sourcev1.GitRepositoryKind, sourcev1.OCIRepositoryKind}, def: sourcev1.GitRepositoryKind}, k.Source)
	if err != nil {
		return nil, err
	}
	p, err := relativePath(k.Path)
	if err != nil {
		return nil, err
	}
	iv, err := interval("interval", k.Interval)
	if err != nil {
		return nil, err
	}
	retry, err := optionalDuration("retry-interval", k.RetryInterval)
	if err != nil {
		return nil, err
	}
	deps, err := parseRefs(refSpec{flag: "depends-on", kinds: []string{kustomizev1.KustomizationKind}, def: kustomizev1.KustomizationKind}, k.DependsOn)
	if err != nil {
		return nil, err
	}
	checks, err := parseRefs(refSpec{flag: "health-check"}, k.HealthChecks)
	if err != nil {
		return nil, err
	}
	ks := &kustomizev1.Kustomization{ObjectMeta: om, Spec: kustomizev1.KustomizationSpec{
		SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: src.Kind, Name: src.Name, Namespace: src.Namespace},
		Path:      p, Prune: k.Prune, Wait: k.Wait, Force: k.Force, Interval: iv, RetryInterval: retry,
	}}
	ks.SetGroupVersionKind(kustomizev1.GroupVersion.WithKind(kustomizev1.KustomizationKind))
	for _, d := range deps {
		ks.Spec.DependsOn = append(ks.Spec.DependsOn, kustomizev1.DependencyReference{Name: d.Name, Namespace: d.Namespace})
	}
	for _, c := range checks {
		if k.Wait {
			return nil, errors.New("--wait checks every applied object: --health-check would be ignored")
		}
		ks.Spec.HealthChecks = append(ks.Spec.HealthChecks, meta.NamespacedObjectKindReference{Kind: c.Kind, Name: c.Name, Namespace: c.Namespace})
	}
	if k.TargetNamespace != "" {
		if err := checkLabel("target-namespace", k.TargetNamespace); err != nil {
			return nil, err
		}
		ks.Spec.TargetNamespace = k.TargetNamespace
	}
	if k.ServiceAccount != "" {
		if err := checkName("--service-account", k.ServiceAccount); err != nil {
			return nil, err
		}
		ks.Spec.ServiceAccountName = k.ServiceAccount
	}
	switch {
	case k.DecryptionProvider == "" && k.DecryptionSecret != "":
		return nil, errors.New("--decryption-secret needs --decryption-provider sops")
	case k.DecryptionProvider == "":
	case k.DecryptionProvider != "sops":
		return nil, fmt.Errorf("--decryption-provider %q: the only provider is sops", k.DecryptionProvider)
	default:
		ks.Spec.Decryption = &kustomizev1.Decryption{Provider: k.DecryptionProvider}
		if k.DecryptionSecret != "" {
			if err := checkName("--decryption-secret", k.DecryptionSecret); err != nil {
				return nil, err
			}
			ks.Spec.Decryption.SecretRef = &meta.LocalObjectReference{Name: k.DecryptionSecret}
		}
	}
	return []Object{ks}, nil
}

// relativePath checks --path: relative, inside the artifact. `./` is kept as the user wrote it.
func relativePath(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	if strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("--path %q must be relative to the source's root", p)
	}
	for _, seg := range strings.Split(path.Clean(p), "/") {
		if seg == ".." {
			return "", fmt.Errorf("--path %q leaves the source's root", p)
		}
	}
	return p, nil
}
