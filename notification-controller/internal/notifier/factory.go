package notifier

import (
	"fmt"
	"net/url"
)

// Types lists every supported Provider type.
var Types = []string{
	"slack", "generic", "generic-hmac", "msteams", "discord", "googlechat", "rocket", "mattermost",
	"telegram", "alertmanager", "github", "gitlab", "gitea", "bitbucket", "bitbucketserver",
	"pagerduty", "opsgenie", "datadog", "grafana", "sentry", "webex", "matrix", "lark", "githubdispatch",
	"azuredevops", "githubpullrequestcomment", "gitlabmergerequestcomment", "giteapullrequestcomment",
	"azureeventhub", "googlepubsub", "nats",
}

// New returns the Notifier for c.Type. It checks what the type needs (a token, a channel, a
// repository address) and returns an error saying what is missing, never quoting a secret.
func New(c Config) (Notifier, error) {
	if ((c.Type != "telegram" && c.Type != "azureeventhub" && c.Type != "googlepubsub") || c.Address != "") && c.Type != "nats" {
		u, err := url.Parse(c.Address)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("the address is not an http(s) URL")
		}
	}
	var (
		n   Notifier
		err error
	)
	switch c.Type {
	case "generic":
		n, err = newGeneric(&c, false)
	case "generic-hmac":
		n, err = newGeneric(&c, true)
	case "slack":
		n, err = newSlack(&c)
	case "discord":
		n, err = newDiscord(&c)
	case "mattermost":
		n, err = newMattermost(&c)
	case "rocket":
		n, err = newRocket(&c)
	case "msteams":
		n, err = newMSTeams(&c)
	case "googlechat":
		n, err = newGoogleChat(&c)
	case "telegram":
		n, err = newTelegram(&c)
	case "alertmanager":
		n, err = newAlertmanager(&c)
	case "github":
		n, err = newGitHub(&c)
	case "gitlab":
		n, err = newGitLab(&c)
	case "gitea":
		n, err = newGitea(&c)
	case "bitbucket":
		n, err = newBitbucket(&c)
	case "bitbucketserver":
		n, err = newBitbucketServer(&c)
	case "pagerduty":
		n, err = newPagerDuty(&c)
	case "opsgenie":
		n, err = newOpsgenie(&c)
	case "datadog":
		n, err = newDatadog(&c)
	case "grafana":
		n, err = newGrafana(&c)
	case "sentry":
		n, err = newSentry(&c)
	case "webex":
		n, err = newWebex(&c)
	case "matrix":
		n, err = newMatrix(&c)
	case "lark":
		n, err = newLark(&c)
	case "githubdispatch":
		n, err = newGitHubDispatch(&c)
	case "azuredevops":
		n, err = newAzureDevOps(&c)
	case "githubpullrequestcomment":
		n, err = newGitHubPRComment(&c)
	case "gitlabmergerequestcomment":
		n, err = newGitLabMRComment(&c)
	case "giteapullrequestcomment":
		n, err = newGiteaPRComment(&c)
	case "azureeventhub":
		n, err = newAzureEventHub(&c)
	case "googlepubsub":
		n, err = newGooglePubSub(&c)
	case "nats":
		n, err = newNATS(&c)
	default:
		return nil, fmt.Errorf("unsupported type %q", c.Type)
	}
	if err != nil {
		return nil, err
	}
	return n, nil
}
