// Package notifier delivers one event to one destination in that destination's own request
// format: chat webhooks (Slack, Discord, Microsoft Teams, Google Chat, Rocket.Chat, Mattermost,
// Telegram), generic JSON webhooks (optionally HMAC-signed), Alertmanager, and the commit-status
// APIs of GitHub, GitLab, Gitea and Bitbucket.
//
// The package knows nothing of Weir's custom resources: New takes a resolved Config (address,
// token and transport already read from Secrets) and returns a Notifier. Errors a Notifier
// returns never contain the address, the token or any other secret of its Config; Retryable says
// whether a failed delivery may succeed when tried again.
package notifier
