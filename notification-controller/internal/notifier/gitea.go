package notifier

import (
	"context"
	"fmt"
	"net/http"
)

// gitea sets commit statuses with the Gitea (and Forgejo) API v1.
type gitea struct {
	p     *poster
	api   string // .../api/v1/repos/<owner>/<repo>
	token string
}

func newGitea(c *Config) (*gitea, error) {
	if c.Token == "" {
		return nil, fmt.Errorf("gitea needs a `token`")
	}
	r, err := parseRepository(c.Address, 2)
	if err != nil {
		return nil, err
	}
	owner, repo := r.ownerRepo()
	// Anything before owner/repo is the server's sub-path.
	r.Prefix = ""
	if prefix := r.Path[:len(r.Path)-len(owner)-len(repo)-1]; prefix != "" {
		r.Prefix = "/" + prefix[:len(prefix)-1]
	}
	return &gitea{p: newPoster(c), api: r.base() + "/api/v1/repos/" + owner + "/" + repo, token: c.Token}, nil
}

// Post implements Notifier. Events without a commit are skipped.
func (g *gitea) Post(ctx context.Context, e *Event) error {
	s, ok := newCommitStatus(e, 255)
	if !ok {
		return nil
	}
	state := map[statusState]string{statePending: "pending", stateSuccess: "success", stateFailure: "failure"}[s.State]
	_, err := g.p.do(ctx, request{
		url:    g.api + "/statuses/" + s.SHA,
		body:   map[string]string{"state": state, "context": s.Key, "description": s.Description},
		header: http.Header{"Authorization": {"token " + g.token}},
	})
	return err
}
