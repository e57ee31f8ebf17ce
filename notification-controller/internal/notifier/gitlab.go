package notifier

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// gitlab sets commit statuses with GitLab's REST API (v4) on the project the address names,
// nested groups included.
type gitlab struct {
	p     *poster
	api   string // .../api/v4/projects/<url-encoded path>
	token string
}

func newGitLab(c *Config) (*gitlab, error) {
	if c.Token == "" {
		return nil, fmt.Errorf("gitlab needs a `token`")
	}
	r, err := parseRepository(c.Address, 2)
	if err != nil {
		return nil, err
	}
	return &gitlab{p: newPoster(c), api: r.base() + "/api/v4/projects/" + url.PathEscape(r.Path), token: c.Token}, nil
}

// Post implements Notifier. Events without a commit are skipped. GitLab refuses to set the
// state a status already has ("Cannot transition status"); that is success.
func (g *gitlab) Post(ctx context.Context, e *Event) error {
	s, ok := newCommitStatus(e, 255)
	if !ok {
		return nil
	}
	state := map[statusState]string{statePending: "running", stateSuccess: "success", stateFailure: "failed"}[s.State]
	_, err := g.p.do(ctx, request{
		url:    g.api + "/statuses/" + s.SHA,
		body:   map[string]string{"state": state, "name": s.Key, "description": s.Description},
		header: http.Header{"Private-Token": {g.token}},
	})
	var se *StatusError
	if errors.As(err, &se) && se.Code == http.StatusBadRequest && strings.Contains(se.Detail, "Cannot transition status") {
		return nil
	}
	return err
}
