package manifests_test

import (
	"strings"
	"testing"

	notificationv1 "weir.dev/api/notification/v1"
)

// notifProvider returns a valid generic Provider changed by edit.
func notifProvider(edit func(*notificationv1.ProviderSpec)) *notificationv1.Provider {
	p := &notificationv1.Provider{Spec: notificationv1.ProviderSpec{
		Type:    notificationv1.GenericProvider,
		Address: "https://hooks.example.com/weir",
	}}
	if edit != nil {
		edit(&p.Spec)
	}
	return p
}

const (
	providerNeedsDestination = "spec.address or spec.secretRef (with an `address` key) is required for every type but telegram"
	providerNeedsRepository  = "spec.address, the repository URL, is required for types github, gitlab, gitea, bitbucket and bitbucketserver"
	providerNeedsToken       = "spec.secretRef, holding the `token`, is required for types github, gitlab, gitea, bitbucket, bitbucketserver, telegram and generic-hmac"
	providerNeedsChat        = "spec.channel, the chat ID, is required for type telegram"
	providerNeedsRoom        = "spec.channel, the room ID, is required for types webex and matrix"
	providerNeedsRoutingKey  = "type pagerduty needs the integration's routing key: the `token` of spec.secretRef, or spec.channel"
	providerNeedsRepo2       = "spec.address, the repository URL, is required for types githubdispatch, azuredevops, githubpullrequestcomment, gitlabmergerequestcomment and giteapullrequestcomment"
	providerNeedsToken2      = "spec.secretRef, holding the `token`, is required for types opsgenie, datadog, webex, matrix, githubdispatch, azuredevops, githubpullrequestcomment, gitlabmergerequestcomment, giteapullrequestcomment, azureeventhub and googlepubsub"
	providerOneProxy         = "at most one of spec.proxy and spec.proxySecretRef may be set"
)

// TestProviderValidation: every OpenAPI and CEL rule of Provider rejects a bad spec with its
// message and accepts a good one.
func TestProviderValidation(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("a", 2048)
	runNotificationCases(t, []notificationCase{
		// spec.type
		{name: "unsupported type names the supported ones", obj: notifProvider(func(s *notificationv1.ProviderSpec) { s.Type = "signal" }),
			wantErr: []string{`spec.type: Unsupported value: "signal"`, `supported values: "slack", "generic", "generic-hmac", "msteams", "discord", "googlechat", "rocket", "mattermost", "telegram", "alertmanager", "github", "gitlab", "gitea", "bitbucket", "bitbucketserver", "pagerduty", "opsgenie", "datadog", "grafana", "sentry", "webex", "matrix", "lark", "githubdispatch", "azuredevops", "githubpullrequestcomment", "gitlabmergerequestcomment", "giteapullrequestcomment", "azureeventhub", "googlepubsub", "nats"`}},
		{name: "empty type", obj: notifProvider(func(s *notificationv1.ProviderSpec) { s.Type = "" }), wantErr: []string{"spec.type"}},

		// formats and sizes
		{name: "address not http(s)", obj: notifProvider(func(s *notificationv1.ProviderSpec) { s.Address = "ftp://example.com/hook" }), wantErr: []string{"spec.address", "should match"}},
		{name: "address too long", obj: notifProvider(func(s *notificationv1.ProviderSpec) { s.Address = long }), wantErr: []string{"spec.address", "Too long"}},
		{name: "channel too long", obj: notifProvider(func(s *notificationv1.ProviderSpec) { s.Channel = strings.Repeat("c", 2049) }), wantErr: []string{"spec.channel", "Too long"}},
		{name: "channel at the limit", obj: notifProvider(func(s *notificationv1.ProviderSpec) { s.Channel = strings.Repeat("c", 2048) })},
		{name: "username too long", obj: notifProvider(func(s *notificationv1.ProviderSpec) { s.Username = strings.Repeat("u", 2049) }), wantErr: []string{"spec.username", "Too long"}},
		{name: "username at the limit", obj: notifProvider(func(s *notificationv1.ProviderSpec) { s.Username = strings.Repeat("u", 2048) })},
		{name: "proxy not http(s)", obj: notifProvider(func(s *notificationv1.ProviderSpec) { s.Proxy = "socks5://proxy:1080" }), wantErr: []string{"spec.proxy", "should match"}},
		{name: "proxy too long", obj: notifProvider(func(s *notificationv1.ProviderSpec) { s.Proxy = long }), wantErr: []string{"spec.proxy", "Too long"}},
		{name: "interval in days", obj: notifWithField(notifProvider(nil), "1d", "spec", "interval"), wantErr: []string{"spec.interval", "should match"}},
		{name: "timeout without unit", obj: notifWithField(notifProvider(nil), "30", "spec", "timeout"), wantErr: []string{"spec.timeout", "should match"}},
		{name: "interval and timeout set", obj: notifProvider(func(s *notificationv1.ProviderSpec) {
			s.Interval, s.Timeout = notifDuration("1h"), notifDuration("30s")
		})},
		{name: "empty secretRef name", obj: notifProvider(func(s *notificationv1.ProviderSpec) { s.SecretRef = notifSecret("") }), wantErr: []string{"spec.secretRef.name"}},

		// where the destination comes from
		{name: "generic without address or secretRef", obj: notifProvider(func(s *notificationv1.ProviderSpec) { s.Address = "" }), wantErr: []string{providerNeedsDestination}},
		{name: "slack with the address in the secret", obj: notifProvider(func(s *notificationv1.ProviderSpec) {
			s.Type, s.Address, s.SecretRef = notificationv1.SlackProvider, "", notifSecret("slack-webhook")
		})},
		{name: "github without address", obj: notifProvider(func(s *notificationv1.ProviderSpec) {
			s.Type, s.Address, s.SecretRef = notificationv1.GitHubProvider, "", notifSecret("gh")
		}), wantErr: []string{providerNeedsRepository}},
		{name: "github without secretRef", obj: notifProvider(func(s *notificationv1.ProviderSpec) {
			s.Type, s.Address = notificationv1.GitHubProvider, "https://github.com/org/repo"
		}), wantErr: []string{providerNeedsToken}},
		{name: "generic-hmac without secretRef", obj: notifProvider(func(s *notificationv1.ProviderSpec) { s.Type = notificationv1.GenericHMACProvider }),
			wantErr: []string{providerNeedsToken}},
		{name: "telegram without channel", obj: notifProvider(func(s *notificationv1.ProviderSpec) {
			s.Type, s.Address, s.SecretRef = notificationv1.TelegramProvider, "", notifSecret("bot")
		}), wantErr: []string{providerNeedsChat}},
		{name: "telegram without secretRef", obj: notifProvider(func(s *notificationv1.ProviderSpec) {
			s.Type, s.Address, s.Channel = notificationv1.TelegramProvider, "", "-1001234"
		}), wantErr: []string{providerNeedsToken}},
		{name: "webex without channel", obj: notifProvider(func(s *notificationv1.ProviderSpec) {
			s.Type, s.SecretRef = notificationv1.WebexProvider, notifSecret("bot")
		}), wantErr: []string{providerNeedsRoom}},
		{name: "matrix without secretRef", obj: notifProvider(func(s *notificationv1.ProviderSpec) {
			s.Type, s.Channel = notificationv1.MatrixProvider, "!room:example.org"
		}), wantErr: []string{providerNeedsToken2}},
		{name: "pagerduty without routing key", obj: notifProvider(func(s *notificationv1.ProviderSpec) { s.Type = notificationv1.PagerDutyProvider }),
			wantErr: []string{providerNeedsRoutingKey}},
		{name: "pagerduty with the routing key in spec.channel", obj: notifProvider(func(s *notificationv1.ProviderSpec) {
			s.Type, s.Channel = notificationv1.PagerDutyProvider, "R0UT1NGKEY"
		})},
		{name: "azureeventhub without secretRef", obj: notifProvider(func(s *notificationv1.ProviderSpec) {
			s.Type, s.Address = notificationv1.AzureEventHubProvider, ""
		}), wantErr: []string{providerNeedsToken2}},
		{name: "googlepubsub without topic", obj: notifProvider(func(s *notificationv1.ProviderSpec) {
			s.Type, s.SecretRef = notificationv1.GooglePubSubProvider, notifSecret("sa-key")
		}), wantErr: []string{"spec.channel, the topic (projects/<project>/topics/<topic>), is required for type googlepubsub"}},
		{name: "nats without subject", obj: notifProvider(func(s *notificationv1.ProviderSpec) {
			s.Type, s.Address = notificationv1.NATSProvider, "nats://nats.example.com:4222"
		}), wantErr: []string{"spec.channel, the subject, is required for type nats"}},
		{name: "nats with a nats:// address", obj: notifProvider(func(s *notificationv1.ProviderSpec) {
			s.Type, s.Address, s.Channel = notificationv1.NATSProvider, "tls://nats.example.com:4222", "weir.events"
		})},
		{name: "a nats:// address for another type", obj: notifProvider(func(s *notificationv1.ProviderSpec) { s.Address = "nats://nats.example.com:4222" }),
			wantErr: []string{"spec.address must be an http(s) URL for every type but nats"}},
		{name: "githubdispatch without address", obj: notifProvider(func(s *notificationv1.ProviderSpec) {
			s.Type, s.Address, s.SecretRef = notificationv1.GitHubDispatchProvider, "", notifSecret("gh")
		}), wantErr: []string{providerNeedsRepo2}},

		// proxies
		{name: "proxy and proxySecretRef", obj: notifProvider(func(s *notificationv1.ProviderSpec) {
			s.Proxy, s.ProxySecretRef = "http://proxy:3128", notifSecret("proxy")
		}), wantErr: []string{providerOneProxy}},
		{name: "proxy alone", obj: notifProvider(func(s *notificationv1.ProviderSpec) { s.Proxy = "http://proxy:3128" })},
		{name: "proxySecretRef alone", obj: notifProvider(func(s *notificationv1.ProviderSpec) { s.ProxySecretRef = notifSecret("proxy") })},
	})
}

// TestProviderEveryTypeAccepted: each supported type is accepted in its minimal valid form.
func TestProviderEveryTypeAccepted(t *testing.T) {
	var cases []notificationCase
	for _, typ := range notificationv1.ProviderTypes {
		p := notifProvider(func(s *notificationv1.ProviderSpec) {
			s.Type, s.SecretRef = typ, notifSecret("creds")
			switch {
			case typ == notificationv1.TelegramProvider:
				s.Address, s.Channel = "", "-1001234"
			case typ == notificationv1.WebexProvider || typ == notificationv1.MatrixProvider:
				s.Channel = "room"
			case typ == notificationv1.GooglePubSubProvider:
				s.Address, s.Channel = "", "projects/weir-test/topics/weir-events"
			case typ == notificationv1.NATSProvider:
				s.Address, s.Channel = "nats://nats.example.com:4222", "weir.events"
			case notificationv1.IsCommitStatusProvider(typ):
				s.Address = "https://git.example.com/org/repo"
			}
		})
		cases = append(cases, notificationCase{name: typ, obj: p})
	}
	runNotificationCases(t, cases)
}
