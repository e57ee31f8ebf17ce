package notifier

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// azureDevOps sets commit statuses on an Azure Repos repository
// (POST <org>/<project>/_apis/git/repositories/<repo>/commits/<sha>/statuses), authenticated
// with a personal access token in `token` (basic auth, empty user name). The address is the
// repository's URL: https://dev.azure.com/<org>/<project>/_git/<repo>, or the same on
// <org>.visualstudio.com or an Azure DevOps Server collection.
type azureDevOps struct {
	p     *poster
	api   string // .../_apis/git/repositories/<repo>
	token string
}

// azureDevOpsAPIVersion is the REST API version of the statuses call.
const azureDevOpsAPIVersion = "7.1"

func newAzureDevOps(c *Config) (*azureDevOps, error) {
	if c.Token == "" {
		return nil, fmt.Errorf("azuredevops needs a personal access `token`")
	}
	u, err := url.Parse(c.Address)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, permanentf("the address must be the repository's http(s) URL")
	}
	if u.User != nil {
		return nil, permanentf("the repository address must not embed credentials: put the token in the Secret")
	}
	project, repo, ok := strings.Cut(strings.Trim(u.EscapedPath(), "/"), "/_git/")
	if !ok || project == "" || repo == "" || strings.Contains(repo, "/") {
		return nil, permanentf("an azuredevops address must be https://dev.azure.com/<organization>/<project>/_git/<repository>")
	}
	api := u.Scheme + "://" + u.Host + "/" + project + "/_apis/git/repositories/" + strings.TrimSuffix(repo, ".git")
	p := newPoster(c)
	p.secrets = append(p.secrets, base64.StdEncoding.EncodeToString([]byte(":"+c.Token)))
	return &azureDevOps{p: p, api: api, token: c.Token}, nil
}

// Post implements Notifier. Events without a commit are skipped.
func (a *azureDevOps) Post(ctx context.Context, e *Event) error {
	s, ok := newCommitStatus(e, 255)
	if !ok {
		return nil
	}
	state := map[statusState]string{statePending: "pending", stateSuccess: "succeeded", stateFailure: "failed"}[s.State]
	_, err := a.p.do(ctx, request{
		url: a.api + "/commits/" + s.SHA + "/statuses?api-version=" + azureDevOpsAPIVersion,
		body: map[string]any{
			"state":       state,
			"description": s.Description,
			"context":     map[string]string{"genre": "weir", "name": s.Key},
		},
		// A personal access token goes in basic auth with an empty user name.
		header: http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(":"+a.token))}},
	})
	return err
}
