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
)

// IsCommitStatusProvider reports whether a Provider type writes commit statuses rather than
// messages: those only accept events that carry a commit revision.
func IsCommitStatusProvider(providerType string) bool {
	switch providerType {
	case GitHubProvider, GitLabProvider, GiteaProvider, BitbucketProvider, BitbucketServerProvider:
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
)
