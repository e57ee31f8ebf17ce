package controller

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"oras.land/oras-go/v2/registry/remote/auth"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	"weir.dev/source-controller/internal/oci"
	"weir.dev/source-controller/internal/transport"
)

// secretData returns a Secret's data, with an error naming the Secret (never its content).
func secretData(ctx context.Context, c client.Reader, namespace, name string) (map[string][]byte, error) {
	var s corev1.Secret
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("secret '%s' not found", name)
		}
		return nil, fmt.Errorf("reading secret '%s': %w", name, err)
	}
	return s.Data, nil
}

// tlsFromSecret returns the TLS configuration of a certSecretRef; nil when ref is nil.
func tlsFromSecret(ctx context.Context, c client.Reader, namespace string, ref *meta.LocalObjectReference) (*tls.Config, error) {
	if ref == nil {
		return nil, nil
	}
	data, err := secretData(ctx, c, namespace, ref.Name)
	if err != nil {
		return nil, err
	}
	cfg, err := transport.TLSConfig(data)
	if err != nil {
		return nil, fmt.Errorf("secret '%s': %w", ref.Name, err)
	}
	return cfg, nil
}

// proxyFromSecret returns the proxy of a proxySecretRef; nil when ref is nil.
func proxyFromSecret(ctx context.Context, c client.Reader, namespace string, ref *meta.LocalObjectReference) (*url.URL, error) {
	if ref == nil {
		return nil, nil
	}
	data, err := secretData(ctx, c, namespace, ref.Name)
	if err != nil {
		return nil, err
	}
	u, err := transport.ProxyURL(data)
	if err != nil {
		return nil, fmt.Errorf("proxy secret '%s': %w", ref.Name, err)
	}
	return u, nil
}

// basicAuthFromSecret returns the `username` and `password` of a credentials Secret.
func basicAuthFromSecret(name string, data map[string][]byte) (string, string, error) {
	user, pass := string(data["username"]), string(data["password"])
	if user == "" || pass == "" {
		return "", "", fmt.Errorf("secret '%s' needs both 'username' and 'password'", name)
	}
	return user, pass, nil
}

// registryCredential returns the credential a Secret holds for a registry host: from its
// `.dockerconfigjson` (a `kubernetes.io/dockerconfigjson` Secret), or its `username` and
// `password`. found is false when a Docker config has no entry for the host.
func registryCredential(name, host string, data map[string][]byte) (cred auth.Credential, found bool, err error) {
	if cfg, ok := data[oci.DockerConfigKey]; ok {
		cred, found, err = oci.CredentialFromDockerConfig(cfg, host)
		if err != nil {
			return cred, false, fmt.Errorf("secret '%s': %s %w", name, oci.DockerConfigKey, err)
		}
		return cred, found, nil
	}
	user, pass, err := basicAuthFromSecret(name, data)
	if err != nil {
		return auth.EmptyCredential, false, errors.New(err.Error() + " or a '.dockerconfigjson'")
	}
	return auth.Credential{Username: user, Password: pass}, true, nil
}

// defaultTimeout bounds upstream operations when spec.timeout is unset.
const defaultTimeout = 60 * time.Second

// durationOr is d, or def when d is unset or zero.
func durationOr(d *metav1.Duration, def time.Duration) time.Duration {
	if d != nil && d.Duration > 0 {
		return d.Duration
	}
	return def
}
