package notifier

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// github sets commit statuses with GitHub's REST API: github.com through api.github.com,
// GitHub Enterprise Server through <host>/api/v3.
type github struct {
	p     *poster
	api   string // .../repos/<owner>/<repo>
	token string
}

func newGitHub(c *Config) (*github, error) {
	if c.Token == "" {
		return nil, fmt.Errorf("github needs a `token`")
	}
	r, err := parseRepository(c.Address, 2)
	if err != nil {
		return nil, err
	}
	if strings.Count(r.Path, "/") != 1 {
		return nil, permanentf("a GitHub address must be https://<host>/<owner>/<repo>")
	}
	base := r.base() + "/api/v3"
	if strings.EqualFold(r.Host, "github.com") || strings.EqualFold(r.Host, "www.github.com") {
		base = "https://api.github.com"
	}
	return &github{p: newPoster(c), api: base + "/repos/" + r.Path, token: c.Token}, nil
}

// Post implements Notifier. Events without a commit are skipped.
func (g *github) Post(ctx context.Context, e *Event) error {
	s, ok := newCommitStatus(e, 140)
	if !ok {
		return nil
	}
	state := map[statusState]string{statePending: "pending", stateSuccess: "success", stateFailure: "failure"}[s.State]
	_, err := g.p.do(ctx, request{
		url:  g.api + "/statuses/" + s.SHA,
		body: map[string]string{"state": state, "context": s.Key, "description": s.Description},
		header: http.Header{
			"Authorization":        {"Bearer " + g.token},
			"Accept":               {"application/vnd.github+json"},
			"X-Github-Api-Version": {"2022-11-28"},
		},
	})
	return err
}
