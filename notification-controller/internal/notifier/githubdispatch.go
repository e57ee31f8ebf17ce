package notifier

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// githubDispatch sends each event as a repository_dispatch event to a GitHub repository
// (POST /repos/<owner>/<repo>/dispatches), for workflows `on: repository_dispatch`. The
// event_type is "<Kind>/<name>.<namespace>", as in Flux, so a workflow can filter on it; the
// client_payload is the event itself.
type githubDispatch struct {
	p     *poster
	api   string
	token string
}

func newGitHubDispatch(c *Config) (*githubDispatch, error) {
	if c.Token == "" {
		return nil, fmt.Errorf("githubdispatch needs a `token`")
	}
	g, err := newGitHub(c)
	if err != nil {
		return nil, err
	}
	return &githubDispatch{p: g.p, api: g.api, token: c.Token}, nil
}

// Post implements Notifier.
func (g *githubDispatch) Post(ctx context.Context, e *Event) error {
	payload, err := json.Marshal(e.Event)
	if err != nil {
		return permanentf("encoding the event: %v", err)
	}
	o := e.InvolvedObject
	_, err = g.p.do(ctx, request{
		url: g.api + "/dispatches",
		body: map[string]any{
			"event_type":     truncate(o.Kind+"/"+o.Name+"."+o.Namespace, 100),
			"client_payload": json.RawMessage(payload),
		},
		header: githubHeader(g.token),
	})
	return err
}

// githubHeader is the header of GitHub REST API calls with token.
func githubHeader(token string) http.Header {
	return http.Header{
		"Authorization":        {"Bearer " + token},
		"Accept":               {"application/vnd.github+json"},
		"X-Github-Api-Version": {"2022-11-28"},
	}
}
