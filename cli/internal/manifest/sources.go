package manifest

import (
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
)

// GitSource is `weir create source git`.
type GitSource struct {
	Meta
	URL                                  string
	Branch, Tag, SemVer, Commit, RefName string
	// SecretRef names an existing Secret; with Auth, the Secret to create (default: Name).
	SecretRef string
	// Auth, when it holds credentials, is written into a Secret the GitRepository names.
	Auth GitAuth
	// IgnorePaths are gitignore patterns replacing the default exclusions.
	IgnorePaths       []string
	RecurseSubmodules bool
	Interval          time.Duration
}

// Objects returns the GitRepository, preceded by the Secret of its credentials when g has any.
func (g GitSource) Objects() ([]Object, error) {
	om, err := g.objectMeta("GitRepository")
	if err != nil {
		return nil, err
	}
	u, err := parseURL("url", g.URL, "https", "http", "ssh")
	if err != nil {
		return nil, err
	}
	iv, err := interval("interval", g.Interval)
	if err != nil {
		return nil, err
	}
	if g.Tag != "" && g.SemVer != "" {
		return nil, errors.New("--tag and --semver exclude each other")
	}
	repo := &sourcev1.GitRepository{ObjectMeta: om, Spec: sourcev1.GitRepositorySpec{
		URL: g.URL, Interval: iv, RecurseSubmodules: g.RecurseSubmodules,
	}}
	repo.SetGroupVersionKind(sourcev1.GroupVersion.WithKind(sourcev1.GitRepositoryKind))
	if g.Branch != "" || g.Tag != "" || g.SemVer != "" || g.Commit != "" || g.RefName != "" {
		repo.Spec.Reference = &sourcev1.GitRepositoryRef{Branch: g.Branch, Tag: g.Tag, SemVer: g.SemVer, Commit: g.Commit, Name: g.RefName}
	}
	if len(g.IgnorePaths) > 0 {
		ignore := strings.Join(g.IgnorePaths, "\n")
		repo.Spec.Ignore = &ignore
	}
	var objs []Object
	if !g.Auth.empty() {
		name := g.SecretRef
		if name == "" {
			name = g.Name
		}
		s, err := GitSecret{Meta: Meta{Name: name, Namespace: g.Namespace, Labels: g.Labels}, URL: g.URL, GitAuth: g.Auth}.secret()
		if err != nil {
			return nil, err
		}
		objs = append(objs, s)
		repo.Spec.SecretRef = &meta.LocalObjectReference{Name: name}
	} else if g.SecretRef != "" {
		if err := checkName("--secret-ref", g.SecretRef); err != nil {
			return nil, err
		}
		repo.Spec.SecretRef = &meta.LocalObjectReference{Name: g.SecretRef}
	} else if u.Scheme == "ssh" {
		return nil, errors.New("an ssh:// URL needs credentials: --private-key-file and --ssh-known-hosts, or --secret-ref naming a Secret with `identity` and `known_hosts`")
	}
	return append(objs, repo), nil
}

// OCISource is `weir create source oci`.
type OCISource struct {
	Meta
	URL                 string
	Tag, SemVer, Digest string
	SecretRef           string
	Provider            string
	Insecure            bool
	Interval            time.Duration
}

// Objects returns the OCIRepository.
func (o OCISource) Objects() ([]Object, error) {
	om, err := o.objectMeta("OCIRepository")
	if err != nil {
		return nil, err
	}
	if _, err := parseURL("url", o.URL, "oci"); err != nil {
		return nil, err
	}
	if strings.Contains(strings.TrimPrefix(o.URL, sourcev1.OCIRepositoryPrefix), "@") {
		return nil, errors.New("--url must not hold a digest: give it with --digest")
	}
	iv, err := interval("interval", o.Interval)
	if err != nil {
		return nil, err
	}
	set := 0
	for _, v := range []string{o.Tag, o.SemVer, o.Digest} {
		if v != "" {
			set++
		}
	}
	if set == 0 {
		return nil, errors.New("give one of --tag, --semver and --digest")
	}
	if o.Digest != "" && !strings.HasPrefix(o.Digest, "sha256:") {
		return nil, fmt.Errorf("--digest %q: want sha256:<hex>", o.Digest)
	}
	switch o.Provider {
	case "", sourcev1.GenericOCIProvider, sourcev1.AmazonOCIProvider, sourcev1.AzureOCIProvider, sourcev1.GoogleOCIProvider:
	default:
		return nil, fmt.Errorf("--provider %q: want generic, aws, azure or gcp", o.Provider)
	}
	repo := &sourcev1.OCIRepository{ObjectMeta: om, Spec: sourcev1.OCIRepositorySpec{
		URL: o.URL, Interval: iv, Provider: o.Provider, Insecure: o.Insecure,
		Reference: &sourcev1.OCIRepositoryRef{Tag: o.Tag, SemVer: o.SemVer, Digest: o.Digest},
	}}
	repo.SetGroupVersionKind(sourcev1.GroupVersion.WithKind(sourcev1.OCIRepositoryKind))
	if o.SecretRef != "" {
		if err := checkName("--secret-ref", o.SecretRef); err != nil {
			return nil, err
		}
		repo.Spec.SecretRef = &meta.LocalObjectReference{Name: o.SecretRef}
	}
	return []Object{repo}, nil
}

// HelmSource is `weir create source helm`.
type HelmSource struct {
	Meta
	URL string
	// OCI makes a repository of type oci (an oci:// URL).
	OCI                       bool
	SecretRef, CertSecretRef  string
	PassCredentials, Insecure bool
	Interval                  time.Duration
}

// Objects returns the HelmRepository.
func (h HelmSource) Objects() ([]Object, error) {
	om, err := h.objectMeta("HelmRepository")
	if err != nil {
		return nil, err
	}
	schemes := []string{"https", "http"}
	if h.OCI {
		schemes = []string{"oci"}
	}
	if _, err := parseURL("url", h.URL, schemes...); err != nil {
		if !h.OCI && strings.HasPrefix(h.URL, "oci://") {
			return nil, errors.New("--url is an oci:// URL: add --oci")
		}
		return nil, err
	}
	iv, err := interval("interval", h.Interval)
	if err != nil {
		return nil, err
	}
	repo := &sourcev1.HelmRepository{ObjectMeta: om, Spec: sourcev1.HelmRepositorySpec{
		URL: h.URL, Interval: &iv, PassCredentials: h.PassCredentials, Insecure: h.Insecure,
	}}
	repo.SetGroupVersionKind(sourcev1.GroupVersion.WithKind(sourcev1.HelmRepositoryKind))
	if h.OCI {
		repo.Spec.Type = sourcev1.HelmRepositoryTypeOCI
	}
	for flag, ref := range map[string]**meta.LocalObjectReference{"secret-ref": &repo.Spec.SecretRef, "cert-secret-ref": &repo.Spec.CertSecretRef} {
		name := h.SecretRef
		if flag == "cert-secret-ref" {
			name = h.CertSecretRef
		}
		if name == "" {
			continue
		}
		if err := checkName("--"+flag, name); err != nil {
			return nil, err
		}
		*ref = &meta.LocalObjectReference{Name: name}
	}
	return []Object{repo}, nil
}

// secretOf is corev1.Secret with its kind set.
func secretOf(om Meta, data map[string][]byte, typ corev1.SecretType) (*corev1.Secret, error) {
	m, err := om.objectMeta("Secret")
	if err != nil {
		return nil, err
	}
	s := &corev1.Secret{ObjectMeta: m, Data: data, Type: typ}
	s.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	return s, nil
}
