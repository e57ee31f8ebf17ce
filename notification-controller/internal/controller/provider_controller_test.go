package controller_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/notification-controller/internal/harness"
	"weir.dev/pkg/testenv"
)

const providerToken = "ghp_provider-token-never-shown-123"

func newProvider(ns, name, typ string, edit func(*notificationv1.ProviderSpec)) *notificationv1.Provider {
	p := &notificationv1.Provider{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       notificationv1.ProviderSpec{Type: typ},
	}
	if edit != nil {
		edit(&p.Spec)
	}
	return p
}

func secretRef(name string) *meta.LocalObjectReference { return &meta.LocalObjectReference{Name: name} }

func TestProviderReadiness(t *testing.T) {
	m := manager(t)
	ns := env.Namespace(t)
	secretAddress := "https://hooks.slack.com/services/T0/B0/" + providerToken

	cases := []struct {
		name    string
		secrets map[string]map[string]string
		p       *notificationv1.Provider
		status  metav1.ConditionStatus
		reason  string
		msg     string
	}{
		{name: "generic with an address", p: newProvider(ns, "generic", "generic", func(s *notificationv1.ProviderSpec) {
			s.Address = "https://example.com/hook"
		}), status: "True", reason: meta.SucceededReason, msg: "Provider is ready"},
		{name: "slack address from the secret", secrets: map[string]map[string]string{"slack-url": {"address": secretAddress}},
			p:      newProvider(ns, "slack", "slack", func(s *notificationv1.ProviderSpec) { s.SecretRef = secretRef("slack-url") }),
			status: "True", reason: meta.SucceededReason},
		{name: "suspended", p: newProvider(ns, "suspended", "generic", func(s *notificationv1.ProviderSpec) {
			s.Address, s.Suspend = "https://example.com/hook", true
		}), status: "True", msg: "suspended: events routed to it are dropped"},
		{name: "github without its secret", p: newProvider(ns, "gh-missing", "github", func(s *notificationv1.ProviderSpec) {
			s.Address, s.SecretRef = "https://github.com/org/app", secretRef("nowhere")
		}), status: "False", reason: notificationv1.TokenNotFoundReason, msg: "spec.secretRef: secret 'nowhere' not found"},
		{name: "github secret without a token", secrets: map[string]map[string]string{"gh-no-token": {"username": "u"}},
			p: newProvider(ns, "gh-no-token", "github", func(s *notificationv1.ProviderSpec) {
				s.Address, s.SecretRef = "https://github.com/org/app", secretRef("gh-no-token")
			}), status: "False", reason: notificationv1.TokenNotFoundReason, msg: "secret 'gh-no-token' has no 'token' key"},
		{name: "slack secret without an address", secrets: map[string]map[string]string{"slack-empty": {"username": "u"}},
			p:      newProvider(ns, "slack-empty", "slack", func(s *notificationv1.ProviderSpec) { s.SecretRef = secretRef("slack-empty") }),
			status: "False", reason: notificationv1.SecretNotFoundReason, msg: "spec.address is empty and secret 'slack-empty' has no 'address' key"},
		{name: "an address that is no URL", secrets: map[string]map[string]string{"bad-url": {"address": "hooks.slack.com/" + providerToken}},
			p:      newProvider(ns, "bad-url", "slack", func(s *notificationv1.ProviderSpec) { s.SecretRef = secretRef("bad-url") }),
			status: "False", reason: meta.InvalidSpecReason, msg: "secret 'bad-url' key 'address' is not an http(s) URL"},
		{name: "headers that are no map", secrets: map[string]map[string]string{"bad-headers": {"headers": "- a\n- b"}},
			p: newProvider(ns, "bad-headers", "generic", func(s *notificationv1.ProviderSpec) {
				s.Address, s.SecretRef = "https://example.com", secretRef("bad-headers")
			}), status: "False", reason: meta.InvalidSpecReason, msg: "secret 'bad-headers' key 'headers' is not a YAML map"},
		{name: "a CA that is no PEM", secrets: map[string]map[string]string{"bad-ca": {"ca.crt": "not a certificate"}},
			p: newProvider(ns, "bad-ca", "generic", func(s *notificationv1.ProviderSpec) {
				s.Address, s.CertSecretRef = "https://example.com", secretRef("bad-ca")
			}), status: "False", reason: meta.InvalidSpecReason, msg: "secret 'bad-ca' key 'ca.crt' holds no PEM certificate"},
		{name: "a missing proxy secret", p: newProvider(ns, "no-proxy", "generic", func(s *notificationv1.ProviderSpec) {
			s.Address, s.ProxySecretRef = "https://example.com", secretRef("proxy")
		}), status: "False", reason: notificationv1.SecretNotFoundReason, msg: "spec.proxySecretRef: secret 'proxy' not found"},
		{name: "a repository address without the repository", secrets: map[string]map[string]string{"gl": {"token": providerToken}},
			p: newProvider(ns, "gl-bad", "gitlab", func(s *notificationv1.ProviderSpec) {
				s.Address, s.SecretRef = "https://gitlab.com/group", secretRef("gl")
			}), status: "False", reason: meta.InvalidSpecReason, msg: "gitlab provider: the address must name a repository"},
		{name: "opsgenie secret without the API key", secrets: map[string]map[string]string{"og": {"username": "u"}},
			p: newProvider(ns, "og", "opsgenie", func(s *notificationv1.ProviderSpec) {
				s.Address, s.SecretRef = "https://api.opsgenie.com", secretRef("og")
			}), status: "False", reason: notificationv1.TokenNotFoundReason, msg: "secret 'og' has no 'token' key"},
		{name: "pagerduty routing key from the secret", secrets: map[string]map[string]string{"pd": {"token": providerToken}},
			p: newProvider(ns, "pd", "pagerduty", func(s *notificationv1.ProviderSpec) {
				s.Address, s.SecretRef = "https://events.pagerduty.com", secretRef("pd")
			}), status: "True", reason: meta.SucceededReason},
		{name: "pagerduty without a routing key", secrets: map[string]map[string]string{"pd-empty": {"username": "u"}},
			p: newProvider(ns, "pd-empty", "pagerduty", func(s *notificationv1.ProviderSpec) {
				s.Address, s.SecretRef = "https://events.pagerduty.com", secretRef("pd-empty")
			}), status: "False", reason: notificationv1.TokenNotFoundReason, msg: "secret 'pd-empty' has no 'token' key"},
		{name: "sentry DSN from the secret", secrets: map[string]map[string]string{"dsn": {"address": "https://" + providerToken + "@o1.ingest.sentry.io/42"}},
			p:      newProvider(ns, "sentry", "sentry", func(s *notificationv1.ProviderSpec) { s.SecretRef = secretRef("dsn") }),
			status: "True", reason: meta.SucceededReason},
		{name: "sentry address that is no DSN", secrets: map[string]map[string]string{"no-dsn": {"address": "https://o1.ingest.sentry.io/" + providerToken}},
			p:      newProvider(ns, "no-dsn", "sentry", func(s *notificationv1.ProviderSpec) { s.SecretRef = secretRef("no-dsn") }),
			status: "False", reason: meta.InvalidSpecReason, msg: "sentry provider: a sentry address must be the project's DSN"},
		{name: "azuredevops address without _git", secrets: map[string]map[string]string{"ado": {"token": providerToken}},
			p: newProvider(ns, "ado", "azuredevops", func(s *notificationv1.ProviderSpec) {
				s.Address, s.SecretRef = "https://dev.azure.com/org/project", secretRef("ado")
			}), status: "False", reason: meta.InvalidSpecReason, msg: "an azuredevops address must be https://dev.azure.com/<organization>/<project>/_git/<repository>"},
		{name: "azureeventhub with its connection string and no address", secrets: map[string]map[string]string{"hub": {
			"token": "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=" + providerToken + ";EntityPath=events"}},
			p:      newProvider(ns, "hub", "azureeventhub", func(s *notificationv1.ProviderSpec) { s.SecretRef = secretRef("hub") }),
			status: "True", reason: meta.SucceededReason},
		{name: "googlepubsub without a key in its secret", secrets: map[string]map[string]string{"sa": {"username": "u"}},
			p: newProvider(ns, "pubsub", "googlepubsub", func(s *notificationv1.ProviderSpec) {
				s.Channel, s.SecretRef = "projects/weir-test/topics/weir-events", secretRef("sa")
			}), status: "False", reason: notificationv1.TokenNotFoundReason, msg: "secret 'sa' has no 'token' key"},
		{name: "googlepubsub with a token that is no service account key", secrets: map[string]map[string]string{"sa-bad": {"token": providerToken}},
			p: newProvider(ns, "pubsub-bad", "googlepubsub", func(s *notificationv1.ProviderSpec) {
				s.Channel, s.SecretRef = "projects/weir-test/topics/weir-events", secretRef("sa-bad")
			}), status: "False", reason: meta.InvalidSpecReason, msg: "googlepubsub needs a service account's JSON key as the `token`"},
		// The manager runs as with --allow-internal-addresses: metadata stays refused.
		{name: "a metadata address", p: newProvider(ns, "imds", "generic", func(s *notificationv1.ProviderSpec) {
			s.Address = "http://169.254.169.254/latest/meta-data/"
		}), status: "False", reason: notificationv1.AddressRefusedReason,
			msg: "spec.address: 169.254.169.254 is a link-local address, which notifications never reach"},
		{name: "a metadata address in the secret", secrets: map[string]map[string]string{"imds6": {"address": "http://u:" + providerToken + "@[fd00:ec2::254]/" + providerToken}},
			p:      newProvider(ns, "imds6", "slack", func(s *notificationv1.ProviderSpec) { s.SecretRef = secretRef("imds6") }),
			status: "False", reason: notificationv1.AddressRefusedReason, msg: "secret 'imds6' key 'address': [fd00:ec2::254] is a cloud metadata address"},
		{name: "a metadata proxy", p: newProvider(ns, "imds-proxy", "generic", func(s *notificationv1.ProviderSpec) {
			s.Address, s.Proxy = "https://example.com", "http://169.254.169.254:3128"
		}), status: "False", reason: notificationv1.AddressRefusedReason, msg: "spec.proxy: 169.254.169.254:3128 is a link-local address"},
		{name: "a loopback address, allowed", p: newProvider(ns, "loopback", "generic", func(s *notificationv1.ProviderSpec) {
			s.Address = "http://127.0.0.1:9/hook"
		}), status: "True", reason: meta.SucceededReason},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for name, data := range tc.secrets {
				m.Secret(t, ns, name, data)
			}
			m.Create(t, tc.p)
			msg := m.WaitReady(t, tc.p, tc.status, tc.reason)
			if err := testenv.CheckKstatus(tc.p); err != nil {
				t.Error(err)
			}
			if !strings.Contains(msg, tc.msg) {
				t.Errorf("Ready message %q lacks %q", msg, tc.msg)
			}
			if tc.status == "False" && tc.reason != meta.FailedReason {
				if err := harness.CheckStalled(tc.p); err != nil {
					t.Error(err)
				}
			}
		})
	}
	t.Run("the token and the secret address appear nowhere", func(t *testing.T) {
		assertNowhere(t, m, ns, providerToken)
	})
}

func TestProviderBecomesReadyWhenItsSecretAppears(t *testing.T) {
	m := manager(t)
	ns := env.Namespace(t)
	p := newProvider(ns, "gh", "github", func(s *notificationv1.ProviderSpec) {
		s.Address, s.SecretRef = "https://github.com/org/app", secretRef("gh-token")
	})
	m.Create(t, p)
	m.WaitReady(t, p, "False", notificationv1.TokenNotFoundReason)
	// No requeue is pending for a stalled object: only the Secret watch can make it Ready.
	m.Secret(t, ns, "gh-token", map[string]string{"token": providerToken})
	m.WaitReady(t, p, "True", meta.SucceededReason)
	if p.Status.ObservedGeneration != p.Generation {
		t.Fatalf("observedGeneration %d, generation %d", p.Status.ObservedGeneration, p.Generation)
	}
	// A reconcile request is echoed.
	harness.Update(t, env.Client, p, func(p *notificationv1.Provider) {
		p.Annotations = map[string]string{meta.ReconcileRequestAnnotation: "req-1"}
	})
	harness.Eventually(t, 30*time.Second, func() error {
		if err := env.Client.Get(context.Background(), keyOf(p), p); err != nil {
			return err
		}
		if p.Status.LastHandledReconcileAt != "req-1" {
			return errf("lastHandledReconcileAt = %q", p.Status.LastHandledReconcileAt)
		}
		return nil
	})
}
