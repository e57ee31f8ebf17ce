package provider

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/notification-controller/internal/egress"
	"weir.dev/notification-controller/internal/notifier"
	"weir.dev/pkg/steps"
)

// Keys read from the Secret named by spec.secretRef.
const (
	AddressKey  = "address"
	TokenKey    = "token"
	UsernameKey = "username"
	PasswordKey = "password"
	HeadersKey  = "headers"
)

// Build resolves p's Secrets and returns its notifier. Errors are steps.Stalled with
// TokenNotFound, SecretNotFound, AddressRefused or InvalidSpec (the user must fix the Secret or
// the spec), or transient errors from the API server.
func Build(ctx context.Context, c client.Reader, clients *Clients, p *notificationv1.Provider) (notifier.Notifier, error) {
	cfg, err := Resolve(ctx, c, clients, p)
	if err != nil {
		return nil, err
	}
	n, err := notifier.New(cfg)
	if err != nil {
		return nil, steps.Stalled(meta.InvalidSpecReason, fmt.Errorf("%s provider: %w", p.Spec.Type, err))
	}
	return n, nil
}

// needsToken reports whether a type cannot work without the `token` key.
func needsToken(p *notificationv1.Provider, address string) bool {
	switch p.Spec.Type {
	case notificationv1.GitHubProvider, notificationv1.GitLabProvider, notificationv1.GiteaProvider,
		notificationv1.BitbucketProvider, notificationv1.TelegramProvider, notificationv1.GenericHMACProvider,
		notificationv1.OpsgenieProvider, notificationv1.DatadogProvider, notificationv1.WebexProvider,
		notificationv1.MatrixProvider, notificationv1.GitHubDispatchProvider, notificationv1.AzureDevOpsProvider,
		notificationv1.GitHubPullRequestCommentProvider, notificationv1.GitLabMergeRequestCommentProvider,
		notificationv1.GiteaPullRequestCommentProvider, notificationv1.AzureEventHubProvider, notificationv1.GooglePubSubProvider:
		return true
	case notificationv1.PagerDutyProvider:
		return p.Spec.Channel == ""
	case notificationv1.SlackProvider:
		return strings.HasSuffix(strings.TrimSuffix(address, "/"), "/api/chat.postMessage")
	}
	return false
}

// Resolve returns p's notifier configuration with its Secrets read.
func Resolve(ctx context.Context, c client.Reader, clients *Clients, p *notificationv1.Provider) (notifier.Config, error) {
	cfg := notifier.Config{
		Type:    p.Spec.Type,
		Address: p.Spec.Address,
		Channel: p.Spec.Channel,
		Sender:  p.Spec.Username,
	}
	if ref := p.Spec.SecretRef; ref != nil {
		secret, err := getSecret(ctx, c, p.Namespace, ref.Name)
		if apierrors.IsNotFound(err) {
			reason := notificationv1.SecretNotFoundReason
			if needsToken(p, p.Spec.Address) {
				reason = notificationv1.TokenNotFoundReason
			}
			return cfg, steps.Stalled(reason, fmt.Errorf("spec.secretRef: secret '%s' not found", ref.Name))
		}
		if err != nil {
			return cfg, err
		}
		if err := fromSecret(&cfg, secret); err != nil {
			return cfg, err
		}
	}
	// telegram and googlepubsub have a default address; azureeventhub's is in its connection string.
	if cfg.Address == "" && p.Spec.Type != notificationv1.TelegramProvider && p.Spec.Type != notificationv1.AzureEventHubProvider &&
		p.Spec.Type != notificationv1.GooglePubSubProvider {
		msg := "spec.address is empty"
		if p.Spec.SecretRef != nil {
			msg = fmt.Sprintf("spec.address is empty and secret '%s' has no '%s' key", p.Spec.SecretRef.Name, AddressKey)
		}
		return cfg, steps.Stalled(notificationv1.SecretNotFoundReason, fmt.Errorf("%s", msg))
	}
	if err := checkAddress(clients.Policy(), addressField(p, cfg.Address), cfg.Address); err != nil {
		return cfg, err
	}
	if needsToken(p, cfg.Address) && cfg.Token == "" {
		if p.Spec.SecretRef == nil {
			return cfg, steps.Stalled(notificationv1.TokenNotFoundReason, fmt.Errorf("type %s needs spec.secretRef with a '%s' key", p.Spec.Type, TokenKey))
		}
		return cfg, steps.Stalled(notificationv1.TokenNotFoundReason, fmt.Errorf("secret '%s' has no '%s' key", p.Spec.SecretRef.Name, TokenKey))
	}
	if p.Spec.Type == notificationv1.BitbucketServerProvider && cfg.Token == "" && (cfg.BasicUser == "" || cfg.BasicPassword == "") {
		return cfg, steps.Stalled(notificationv1.TokenNotFoundReason,
			fmt.Errorf("secret '%s' has neither a '%s' key nor '%s' and '%s'", secretName(p), TokenKey, UsernameKey, PasswordKey))
	}
	transport, err := resolveTransport(ctx, c, clients.Policy(), p)
	if err != nil {
		return cfg, err
	}
	cfg.Client = clients.Get(transport)
	return cfg, nil
}

// addressField names where address came from, for messages.
func addressField(p *notificationv1.Provider, address string) string {
	if address != p.Spec.Address {
		return fmt.Sprintf("secret '%s' key '%s'", secretName(p), AddressKey)
	}
	return "spec.address"
}

// checkAddress stalls with AddressRefused when address's host is a literal address (or
// localhost) that policy refuses; names are checked when dialled. The message names field and
// the host, never the rest of the URL, which may hold a token.
func checkAddress(policy *egress.Policy, field, address string) error {
	if address == "" {
		return nil
	}
	if err := policy.CheckURL(address); err != nil {
		return steps.Stalled(notificationv1.AddressRefusedReason, fmt.Errorf("%s: %w", field, err))
	}
	return nil
}

func secretName(p *notificationv1.Provider) string {
	if p.Spec.SecretRef == nil {
		return ""
	}
	return p.Spec.SecretRef.Name
}

// fromSecret reads the keys of the spec.secretRef Secret into cfg.
func fromSecret(cfg *notifier.Config, secret *corev1.Secret) error {
	value := func(k string) string { return strings.TrimSpace(string(secret.Data[k])) }
	if a := value(AddressKey); a != "" {
		u, err := url.Parse(a)
		if cfg.Type == notificationv1.NATSProvider {
			if err != nil || (u.Scheme != "nats" && u.Scheme != "tls") || u.Host == "" {
				return steps.Stalled(meta.InvalidSpecReason, fmt.Errorf("secret '%s' key '%s' is not a nats:// or tls:// URL", secret.Name, AddressKey))
			}
		} else if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return steps.Stalled(meta.InvalidSpecReason, fmt.Errorf("secret '%s' key '%s' is not an http(s) URL", secret.Name, AddressKey))
		}
		cfg.Address = a
	}
	cfg.Token = value(TokenKey)
	cfg.BasicUser = value(UsernameKey)
	cfg.BasicPassword = value(PasswordKey)
	if h, ok := secret.Data[HeadersKey]; ok {
		headers := map[string]string{}
		if err := yaml.Unmarshal(h, &headers); err != nil {
			return steps.Stalled(meta.InvalidSpecReason, fmt.Errorf("secret '%s' key '%s' is not a YAML map of header names to values", secret.Name, HeadersKey))
		}
		cfg.Headers = headers
	}
	return nil
}

func getSecret(ctx context.Context, c client.Reader, namespace, name string) (*corev1.Secret, error) {
	s := &corev1.Secret{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, s); err != nil {
		return nil, err
	}
	return s, nil
}

// SecretNames returns the names of the Secrets p references, for the watch that re-checks p
// when one of them changes.
func SecretNames(p *notificationv1.Provider) []string {
	var names []string
	for _, ref := range []*meta.LocalObjectReference{p.Spec.SecretRef, p.Spec.CertSecretRef, p.Spec.ProxySecretRef} {
		if ref != nil {
			names = append(names, ref.Name)
		}
	}
	return names
}
