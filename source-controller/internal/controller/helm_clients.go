package controller

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"oras.land/oras-go/v2/registry/remote/auth"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/steps"
	"weir.dev/source-controller/internal/helmrepo"
	"weir.dev/source-controller/internal/oci"
	"weir.dev/source-controller/internal/transport"
)

// helmOCIClient returns a client for the chart repository `<spec.url>/<chart>` of a
// HelmRepository of type oci (for the registry alone when chart is empty), with its
// credentials, TLS and insecure settings. Errors are classified: a missing or malformed
// Secret fails with AuthenticationFailed, a bad URL stalls with URLInvalid.
func helmOCIClient(ctx context.Context, c client.Reader, repo *sourcev1.HelmRepository, chart string) (*oci.Client, error) {
	spec := repo.Spec
	rest, ok := strings.CutPrefix(spec.URL, sourcev1.OCIRepositoryPrefix)
	if !ok {
		return nil, steps.Stalled(sourcev1.URLInvalidReason, fmt.Errorf("HelmRepository '%s': spec.url must start with oci://", repo.Name))
	}
	host, path, _ := strings.Cut(strings.TrimSuffix(rest, "/"), "/")
	if host == "" || strings.ContainsAny(host, "@/?#") || strings.ContainsAny(path, "@:?#") {
		return nil, steps.Stalled(sourcev1.URLInvalidReason, fmt.Errorf("HelmRepository '%s': spec.url must be oci://<host>[/<path>] without credentials, tag or digest", repo.Name))
	}
	if chart != "" {
		path = strings.TrimPrefix(path+"/"+chart, "/")
	}
	authFailed := func(err error) error {
		return steps.Failed(meta.AuthenticationFailedReason, err)
	}
	tlsCfg, err := tlsFromSecret(ctx, c, repo.Namespace, spec.CertSecretRef)
	if err != nil {
		return nil, authFailed(err)
	}
	cred := auth.EmptyCredential
	if spec.SecretRef != nil {
		data, err := secretData(ctx, c, repo.Namespace, spec.SecretRef.Name)
		if err != nil {
			return nil, authFailed(err)
		}
		var found bool
		if cred, found, err = registryCredential(spec.SecretRef.Name, host, data); err != nil {
			return nil, authFailed(err)
		}
		if !found {
			return nil, authFailed(fmt.Errorf("secret '%s' has no credentials for '%s'", spec.SecretRef.Name, host))
		}
	}
	return oci.NewClient(host, path, oci.Options{
		HTTP:       transport.NewClient(transport.Options{TLS: tlsCfg}),
		PlainHTTP:  spec.Insecure,
		Credential: cred,
	})
}

// helmIndexClient returns a client for a HelmRepository of type default, with the basic auth
// of spec.secretRef, the TLS of spec.certSecretRef and spec.passCredentials. A missing or
// malformed Secret fails with AuthenticationFailed, a bad URL stalls with URLInvalid.
func helmIndexClient(ctx context.Context, c client.Reader, repo *sourcev1.HelmRepository) (*helmrepo.Client, error) {
	spec := repo.Spec
	u, err := url.Parse(spec.URL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, steps.Stalled(sourcev1.URLInvalidReason, fmt.Errorf("HelmRepository '%s': spec.url is not an http(s) URL", repo.Name))
	}
	if u.User != nil {
		return nil, steps.Stalled(sourcev1.URLInvalidReason, fmt.Errorf("HelmRepository '%s': spec.url must not carry credentials: put them in the secret spec.secretRef names", repo.Name))
	}
	tlsCfg, err := tlsFromSecret(ctx, c, repo.Namespace, spec.CertSecretRef)
	if err != nil {
		return nil, steps.Failed(meta.AuthenticationFailedReason, err)
	}
	hc := &helmrepo.Client{
		URL:             u,
		HTTP:            transport.NewClient(transport.Options{TLS: tlsCfg}),
		PassCredentials: spec.PassCredentials,
	}
	if spec.SecretRef != nil {
		data, err := secretData(ctx, c, repo.Namespace, spec.SecretRef.Name)
		if err != nil {
			return nil, steps.Failed(meta.AuthenticationFailedReason, err)
		}
		if hc.Username, hc.Password, err = basicAuthFromSecret(spec.SecretRef.Name, data); err != nil {
			return nil, steps.Failed(meta.AuthenticationFailedReason, err)
		}
	}
	return hc, nil
}

// reasonOf returns the condition reason a classified error carries, or def.
func reasonOf(err error, def string) string {
	var (
		stalled *steps.StalledError
		failed  *steps.FailedError
		waiting *steps.WaitingError
	)
	switch {
	case errors.As(err, &stalled):
		return stalled.Reason
	case errors.As(err, &failed):
		return failed.Reason
	case errors.As(err, &waiting):
		return waiting.Reason
	}
	return def
}
