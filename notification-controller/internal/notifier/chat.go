package notifier

import (
	"net/url"
	"strings"
)

// Discord, Mattermost and Rocket.Chat take Slack's message shape with their own quirks.

// newDiscord posts to the Slack-compatible endpoint of a Discord webhook, `<webhook>/slack`.
func newDiscord(c *Config) (*slack, error) {
	u, err := url.Parse(c.Address)
	if err != nil {
		return nil, errInvalidAddress
	}
	if !strings.HasSuffix(u.Path, "/slack") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/slack"
	}
	return &slack{p: newPoster(c), url: u.String(), sender: c.Sender, markup: slackMarkup{}}, nil
}

// newMattermost posts to a Mattermost incoming webhook, which takes Slack attachments and
// Markdown links.
func newMattermost(c *Config) (*slack, error) {
	return &slack{p: newPoster(c), url: c.Address, channel: c.Channel, sender: c.Sender, markup: markdown{}}, nil
}

// newRocket posts to a Rocket.Chat incoming webhook: Slack attachments, Markdown links, and
// `alias` for the sender's name.
func newRocket(c *Config) (*slack, error) {
	return &slack{p: newPoster(c), url: c.Address, channel: c.Channel, sender: c.Sender, markup: markdown{}, rocketAliasField: true}, nil
}
