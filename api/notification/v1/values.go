package v1

// Severities an event carries and an Alert filters on (spec.eventSeverity).
const (
	// EventSeverityInfo is the severity of routine events; an Alert at this level forwards
	// every event.
	EventSeverityInfo = "info"
	// EventSeverityError is the severity of failures; an Alert at this level forwards only these.
	EventSeverityError = "error"
)

// Values of Provider spec.type: the notifiers Weir implements.
const (
	// GenericProvider POSTs the event as JSON to spec.address.
	GenericProvider = "generic"
	// GenericHMACProvider is GenericProvider with an HMAC-SHA256 signature of the body, keyed by
	// the Secret's `token`, in the X-Signature header.
	GenericHMACProvider = "generic-hmac"
	// SlackProvider posts to a Slack incoming webhook, or with a bot token to chat.postMessage.
	SlackProvider = "slack"
	// MSTeamsProvider posts to a Microsoft Teams workflow or incoming webhook.
	MSTeamsProvider = "msteams"
	// DiscordProvider posts to a Discord webhook (through its Slack-compatible endpoint).
	DiscordProvider = "discord"
	// GoogleChatProvider posts to a Google Chat space webhook.
	GoogleChatProvider = "googlechat"
	// RocketProvider posts to a Rocket.Chat incoming webhook.
	RocketProvider = "rocket"
	// MattermostProvider posts to a Mattermost incoming webhook.
	MattermostProvider = "mattermost"
	// TelegramProvider sends a message to the chat spec.channel with the bot `token`.
	TelegramProvider = "telegram"
	// AlertmanagerProvider posts the event as an alert to the Alertmanager API at spec.address.
	AlertmanagerProvider = "alertmanager"
	// GitHubProvider sets a commit status on the repository at spec.address.
	GitHubProvider = "github"
	// GitLabProvider sets a commit status on the project at spec.address.
	GitLabProvider = "gitlab"
	// GiteaProvider sets a commit status on the repository at spec.address.
	GiteaProvider = "gitea"
	// BitbucketProvider sets a build status on the Bitbucket Cloud repository at spec.address.
	BitbucketProvider = "bitbucket"
	// BitbucketServerProvider sets a build status on the Bitbucket Data Center repository at
	// spec.address.
	BitbucketServerProvider = "bitbucketserver"
	// PagerDutyProvider triggers (error events) and resolves (info events) an incident per object
	// with the Events API v2; spec.channel is the integration's routing key.
	PagerDutyProvider = "pagerduty"
	// OpsgenieProvider creates an alert with the Alert API; the Secret's `token` is the API key.
	OpsgenieProvider = "opsgenie"
	// DatadogProvider posts an event to the Events API; the Secret's `token` is the API key.
	DatadogProvider = "datadog"
	// GrafanaProvider adds an annotation with Grafana's annotations API; `token` (a service
	// account token) or `username` and `password` authenticate.
	GrafanaProvider = "grafana"
	// SentryProvider sends an event to the Sentry project whose DSN is the address.
	SentryProvider = "sentry"
	// WebexProvider posts a message to the room spec.channel with the bot `token`.
	WebexProvider = "webex"
	// MatrixProvider sends a message to the room spec.channel on the homeserver at the address,
	// with the access `token`.
	MatrixProvider = "matrix"
	// LarkProvider posts a card to a Lark (Feishu) custom bot webhook.
	LarkProvider = "lark"
	// GitHubDispatchProvider sends a repository_dispatch event to the repository at the address.
	GitHubDispatchProvider = "githubdispatch"
	// AzureDevOpsProvider sets a commit status on the Azure Repos repository at the address.
	AzureDevOpsProvider = "azuredevops"
	// GitHubPullRequestCommentProvider keeps one comment per object up to date on a pull request.
	GitHubPullRequestCommentProvider = "githubpullrequestcomment"
	// GitLabMergeRequestCommentProvider keeps one comment per object up to date on a merge request.
	GitLabMergeRequestCommentProvider = "gitlabmergerequestcomment"
	// GiteaPullRequestCommentProvider keeps one comment per object up to date on a pull request.
	GiteaPullRequestCommentProvider = "giteapullrequestcomment"
	// AzureEventHubProvider sends the event as JSON to the Event Hub of the connection string in
	// the Secret's `token`, signed with its shared access key.
	AzureEventHubProvider = "azureeventhub"
	// GooglePubSubProvider publishes the event to the Pub/Sub topic spec.channel as the service
	// account whose JSON key is the Secret's `token`.
	GooglePubSubProvider = "googlepubsub"
	// NATSProvider publishes the event as JSON to the subject spec.channel on the NATS server
	// at the address (nats:// or tls://).
	NATSProvider = "nats"
)

// ProviderTypes lists every Provider spec.type, in the order of the CRD's enum.
var ProviderTypes = []string{
	SlackProvider, GenericProvider, GenericHMACProvider, MSTeamsProvider, DiscordProvider,
	GoogleChatProvider, RocketProvider, MattermostProvider, TelegramProvider, AlertmanagerProvider,
	GitHubProvider, GitLabProvider, GiteaProvider, BitbucketProvider, BitbucketServerProvider,
	PagerDutyProvider, OpsgenieProvider, DatadogProvider, GrafanaProvider, SentryProvider,
	WebexProvider, MatrixProvider, LarkProvider, GitHubDispatchProvider, AzureDevOpsProvider,
	GitHubPullRequestCommentProvider, GitLabMergeRequestCommentProvider, GiteaPullRequestCommentProvider,
	AzureEventHubProvider, GooglePubSubProvider, NATSProvider,
}

// IsCommitStatusProvider reports whether a Provider type writes commit statuses rather than
// messages: those only accept events that carry a commit revision.
func IsCommitStatusProvider(providerType string) bool {
	switch providerType {
	case GitHubProvider, GitLabProvider, GiteaProvider, BitbucketProvider, BitbucketServerProvider, AzureDevOpsProvider:
		return true
	}
	return false
}

// Values of Receiver spec.type: the webhook senders Weir authenticates and parses.
const (
	// GenericReceiver accepts any POST to the webhook path; the path is the secret.
	GenericReceiver = "generic"
	// GenericHMACReceiver requires an X-Signature header with the HMAC of the body keyed by `token`.
	GenericHMACReceiver = "generic-hmac"
	// GitHubReceiver verifies X-Hub-Signature-256 and filters on X-GitHub-Event.
	GitHubReceiver = "github"
	// GitLabReceiver verifies X-Gitlab-Token and filters on X-Gitlab-Event.
	GitLabReceiver = "gitlab"
	// BitbucketReceiver verifies X-Hub-Signature and filters on X-Event-Key.
	BitbucketReceiver = "bitbucket"
	// HarborReceiver verifies the Authorization header.
	HarborReceiver = "harbor"
	// DockerHubReceiver checks the payload shape of a Docker Hub webhook.
	DockerHubReceiver = "dockerhub"
	// QuayReceiver checks the payload shape of a Quay webhook.
	QuayReceiver = "quay"
	// NexusReceiver verifies X-Nexus-Webhook-Signature.
	NexusReceiver = "nexus"
	// CDEventsReceiver accepts CDEvents and filters on their ce-type.
	CDEventsReceiver = "cdevents"
	// GenericOIDCReceiver requires an `Authorization: Bearer` OpenID Connect ID token signed by
	// a key of the issuer in the Secret's `issuer`, for the Secret's `audience`, not expired.
	GenericOIDCReceiver = "generic-oidc"
	// GCRReceiver accepts Google Artifact Registry / Container Registry notifications pushed by
	// a Pub/Sub subscription with authentication: a Google-signed ID token for the Secret's
	// `audience`; only image pushes (action INSERT) reconcile.
	GCRReceiver = "gcr"
	// ACRReceiver accepts Azure Container Registry webhooks; only pushes reconcile.
	ACRReceiver = "acr"
)

// ReceiverTypes lists every Receiver spec.type, in the order of the CRD's enum.
var ReceiverTypes = []string{
	GenericReceiver, GenericHMACReceiver, GitHubReceiver, GitLabReceiver, BitbucketReceiver,
	HarborReceiver, DockerHubReceiver, QuayReceiver, NexusReceiver, CDEventsReceiver,
	GenericOIDCReceiver, GCRReceiver, ACRReceiver,
}
