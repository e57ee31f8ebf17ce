// Package identity gives a reconciler the Kubernetes client it must act as: the controller's
// own, an impersonated ServiceAccount of the object's namespace (spec.serviceAccountName or
// --default-service-account), or a remote cluster from a kubeconfig Secret
// (spec.kubeConfig.secretRef), optionally impersonating there too. Kustomization and
// HelmRelease share it, so both apply the same rules.
//
// Clients are cached by identity (and, for remote clusters, by the kubeconfig's digest), so a
// reconcile does not rebuild HTTP transports or rediscover a remote API.
package identity

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"weir.dev/api/meta"
	"weir.dev/pkg/steps"
)

// KubeConfigFailedReason: the kubeconfig Secret of spec.kubeConfig is missing or unusable.
const KubeConfigFailedReason = "KubeConfigFailed"

// maxCached bounds the number of clients kept; past it the cache starts afresh.
const maxCached = 256

// Resolver builds and caches the clients reconcilers act as.
type Resolver struct {
	// Config is the controller's own REST config, the base of impersonated local clients.
	Config *rest.Config
	// Scheme and Mapper are shared by the local clients.
	Scheme *runtime.Scheme
	Mapper apimeta.RESTMapper
	// Reader reads kubeconfig Secrets with the controller's identity.
	Reader client.Reader
	// DefaultServiceAccount is impersonated when a target names none (--default-service-account).
	DefaultServiceAccount string
	// InsecureKubeConfigExec permits exec and auth-provider plugins in kubeconfigs
	// (--insecure-kubeconfig-exec): they run programs inside the controller's container.
	InsecureKubeConfigExec bool

	mu    sync.Mutex
	cache map[string]*Cluster
}

// Target is whom a reconcile of one object acts as.
type Target struct {
	// Namespace of the object; its ServiceAccounts and kubeconfig Secret live there.
	Namespace string
	// ServiceAccountName from the object's spec; empty means the default, if any.
	ServiceAccountName string
	// KubeConfig from the object's spec; nil means this cluster.
	KubeConfig *meta.KubeConfigReference
}

// Cluster is a client acting as one identity, with what building further clients needs.
type Cluster struct {
	Client client.Client
	// Config carries the identity (impersonation, remote credentials); use it for other
	// clients of the same identity, such as Helm's.
	Config *rest.Config
	Mapper apimeta.RESTMapper
	// Remote is true for a cluster reached through spec.kubeConfig.
	Remote bool
	// Identity describes it for messages: "ServiceAccount 'ns/name'" or "the controller".
	Identity string
}

// For returns the client target acts as. Invalid input is a steps.Stalled error naming the
// field at fault; a missing kubeconfig Secret is a steps.Failed one (it may appear later).
func (r *Resolver) For(ctx context.Context, t Target) (*Cluster, error) {
	sa := t.ServiceAccountName
	if sa == "" {
		sa = r.DefaultServiceAccount
	}
	if sa != "" {
		if errs := validation.IsDNS1123Subdomain(sa); len(errs) > 0 {
			return nil, steps.Stalled(meta.InvalidSpecReason, fmt.Errorf("spec.serviceAccountName %q is not a valid name", sa))
		}
	}
	var cfg *rest.Config
	key := "local"
	if t.KubeConfig != nil {
		raw, ref, err := r.readKubeConfig(ctx, t.Namespace, t.KubeConfig)
		if err != nil {
			return nil, err
		}
		if cfg, err = r.parseKubeConfig(raw, ref); err != nil {
			return nil, err
		}
		key = fmt.Sprintf("remote/%x", sha256.Sum256(raw))
	} else {
		if r.Config == nil {
			return nil, errors.New("the controller has no REST config")
		}
		cfg = rest.CopyConfig(r.Config)
	}
	identity := "the controller"
	if sa != "" {
		cfg.Impersonate = rest.ImpersonationConfig{UserName: fmt.Sprintf("system:serviceaccount:%s:%s", t.Namespace, sa)}
		identity = fmt.Sprintf("ServiceAccount '%s/%s'", t.Namespace, sa)
		key += "/" + cfg.Impersonate.UserName
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.cache[key]; ok {
		return c, nil
	}
	c, err := r.newCluster(cfg, t.KubeConfig != nil)
	if err != nil {
		return nil, fmt.Errorf("building a client as %s: %w", identity, err)
	}
	c.Identity = identity
	if r.cache == nil || len(r.cache) >= maxCached {
		r.cache = map[string]*Cluster{}
	}
	r.cache[key] = c
	return c, nil
}

// Gone says why target's identity no longer exists, or "" when it does: its kubeconfig Secret
// or its ServiceAccount (named, or --default-service-account) was deleted, typically with its
// namespace. Deletion uses it to let an object go instead of retrying for ever as an account
// that cannot come back.
func (r *Resolver) Gone(ctx context.Context, t Target) (string, error) {
	check := func(o client.Object, what string) (string, error) {
		err := r.Reader.Get(ctx, client.ObjectKey{Namespace: t.Namespace, Name: o.GetName()}, o)
		switch {
		case apierrors.IsNotFound(err):
			return fmt.Sprintf("%s '%s/%s' no longer exists", what, t.Namespace, o.GetName()), nil
		case err != nil:
			return "", err
		}
		return "", nil
	}
	if t.KubeConfig != nil {
		// The ServiceAccount, if any, lives in the remote cluster: only the Secret is checked.
		return check(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: t.KubeConfig.SecretRef.Name}}, "the kubeconfig Secret")
	}
	sa := t.ServiceAccountName
	if sa == "" {
		sa = r.DefaultServiceAccount
	}
	if sa == "" {
		return "", nil
	}
	return check(&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, "ServiceAccount")
}

func (r *Resolver) newCluster(cfg *rest.Config, remote bool) (*Cluster, error) {
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	mapper := r.Mapper
	if remote || mapper == nil {
		if mapper, err = apiutil.NewDynamicRESTMapper(cfg, httpClient); err != nil {
			return nil, err
		}
	}
	c, err := client.New(cfg, client.Options{HTTPClient: httpClient, Scheme: r.Scheme, Mapper: mapper})
	if err != nil {
		return nil, err
	}
	return &Cluster{Client: c, Config: cfg, Mapper: mapper, Remote: remote}, nil
}

// readKubeConfig returns the kubeconfig bytes of ref's Secret and a description of where
// they came from.
func (r *Resolver) readKubeConfig(ctx context.Context, namespace string, ref *meta.KubeConfigReference) ([]byte, string, error) {
	name := fmt.Sprintf("Secret '%s/%s'", namespace, ref.SecretRef.Name)
	var secret corev1.Secret
	if err := r.Reader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: ref.SecretRef.Name}, &secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, "", steps.Failed(KubeConfigFailedReason, fmt.Errorf("spec.kubeConfig.secretRef: %s not found", name))
		}
		return nil, "", fmt.Errorf("spec.kubeConfig.secretRef: reading %s: %w", name, err)
	}
	keys := []string{ref.SecretRef.Key}
	if ref.SecretRef.Key == "" {
		keys = []string{"value", "value.yaml"}
	}
	for _, k := range keys {
		if b, ok := secret.Data[k]; ok && len(b) > 0 {
			return b, fmt.Sprintf("%s key '%s'", name, k), nil
		}
	}
	return nil, "", steps.Stalled(KubeConfigFailedReason, fmt.Errorf("spec.kubeConfig.secretRef: %s has no key '%s'", name, keys[0]))
}

// parseKubeConfig turns a kubeconfig into a REST config for its current context. It refuses
// references to local files (the controller's filesystem is not the user's), disabled TLS
// verification, and exec or auth-provider plugins unless InsecureKubeConfigExec. Messages
// name users and clusters, never credentials.
func (r *Resolver) parseKubeConfig(raw []byte, from string) (*rest.Config, error) {
	invalid := func(format string, args ...any) error {
		return steps.Stalled(KubeConfigFailedReason, fmt.Errorf("spec.kubeConfig: the kubeconfig in %s %s", from, fmt.Sprintf(format, args...)))
	}
	kc, err := clientcmd.Load(raw)
	if err != nil {
		return nil, invalid("is not a valid kubeconfig")
	}
	if err := r.checkKubeConfig(kc); err != nil {
		return nil, invalid("%s", err)
	}
	cfg, err := clientcmd.NewDefaultClientConfig(*kc, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, invalid("cannot be used: %s", sanitize(err))
	}
	if r.Config != nil {
		cfg.QPS, cfg.Burst, cfg.UserAgent = r.Config.QPS, r.Config.Burst, r.Config.UserAgent
	}
	return cfg, nil
}

func (r *Resolver) checkKubeConfig(kc *clientcmdapi.Config) error {
	for _, name := range sortedKeys(kc.Clusters) {
		c := kc.Clusters[name]
		switch {
		case c.CertificateAuthority != "":
			return fmt.Errorf("refers to a certificate-authority file for cluster '%s'; embed certificate-authority-data instead", name)
		case c.InsecureSkipTLSVerify:
			return fmt.Errorf("disables TLS verification for cluster '%s', which is not allowed", name)
		}
	}
	for _, name := range sortedKeys(kc.AuthInfos) {
		u := kc.AuthInfos[name]
		switch {
		case u.TokenFile != "" || u.ClientCertificate != "" || u.ClientKey != "":
			return fmt.Errorf("refers to credential files for user '%s'; embed token or client-certificate-data and client-key-data instead", name)
		case u.Exec != nil && !r.InsecureKubeConfigExec:
			return fmt.Errorf("runs an exec plugin (%q) for user '%s', which this controller does not allow (--insecure-kubeconfig-exec)", u.Exec.Command, name)
		case u.AuthProvider != nil && !r.InsecureKubeConfigExec:
			return fmt.Errorf("uses the auth-provider plugin %q for user '%s', which this controller does not allow (--insecure-kubeconfig-exec)", u.AuthProvider.Name, name)
		}
	}
	return nil
}

// sanitize keeps only the first line of a client-go error: later lines may quote the file.
func sanitize(err error) string {
	s := err.Error()
	for i := range s {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
