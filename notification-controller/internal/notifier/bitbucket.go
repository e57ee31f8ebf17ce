package notifier

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
)

// bitbucketStates are the build states of both Bitbucket APIs.
var bitbucketStates = map[statusState]string{statePending: "INPROGRESS", stateSuccess: "SUCCESSFUL", stateFailure: "FAILED"}

// bitbucket sets build statuses with the Bitbucket Cloud API 2.0. The token is an access
// token, or `username:app-password`.
type bitbucket struct {
	p                    *poster
	api                  string // .../2.0/repositories/<workspace>/<repo>
	repoURL              string
	auth, user, password string
}

func newBitbucket(c *Config) (*bitbucket, error) {
	if c.Token == "" {
		return nil, fmt.Errorf("bitbucket needs a `token`: an access token or username:app-password")
	}
	r, err := parseRepository(c.Address, 2)
	if err != nil {
		return nil, err
	}
	if strings.Count(r.Path, "/") != 1 {
		return nil, permanentf("a Bitbucket address must be https://bitbucket.org/<workspace>/<repo>")
	}
	base := r.base()
	if strings.EqualFold(r.Host, "bitbucket.org") {
		base = "https://api.bitbucket.org"
	}
	b := &bitbucket{p: newPoster(c), api: base + "/2.0/repositories/" + r.Path, repoURL: r.Scheme + "://" + r.Host + "/" + r.Path}
	b.auth, b.user, b.password = bearerOrBasic(c.Token)
	return b, nil
}

// Post implements Notifier. Events without a commit are skipped. Bitbucket Cloud limits the
// key to 40 characters, so the key is a digest of the object and the name shows it.
func (b *bitbucket) Post(ctx context.Context, e *Event) error {
	s, ok := newCommitStatus(e, 255)
	if !ok {
		return nil
	}
	sum := sha256.Sum256([]byte(s.Key))
	r := request{
		url: b.api + "/commit/" + s.SHA + "/statuses/build",
		body: map[string]string{
			"key": hex.EncodeToString(sum[:])[:40], "name": s.Key, "state": bitbucketStates[s.State],
			"url": b.repoURL, "description": s.Description,
		},
		user: b.user, password: b.password,
	}
	if b.auth != "" {
		r.header = http.Header{"Authorization": {b.auth}}
	}
	_, err := b.p.do(ctx, r)
	return err
}

// bitbucketServer sets build statuses with the Bitbucket Data Center (Server) REST API on the
// repository https://<host>[/<context>]/scm/<project>/<repo>.git or
// .../projects/<project>/repos/<repo>. It authenticates with the Secret's username and password,
// else with the token as a Bearer (HTTP access) token.
type bitbucketServer struct {
	p                    *poster
	api                  string // .../rest/api/latest/projects/<project>/repos/<repo>
	repoURL              string
	auth, user, password string
}

func newBitbucketServer(c *Config) (*bitbucketServer, error) {
	r, err := parseRepository(c.Address, 2)
	if err != nil {
		return nil, err
	}
	project, repo, prefix, ok := splitBitbucketServerPath(r.Path)
	if !ok {
		return nil, permanentf("a Bitbucket Server address must be https://<host>/scm/<project>/<repo>.git")
	}
	r.Prefix = prefix
	b := &bitbucketServer{
		p:       newPoster(c),
		api:     r.base() + "/rest/api/latest/projects/" + project + "/repos/" + repo,
		repoURL: r.Scheme + "://" + r.Host + "/" + r.Path,
	}
	switch {
	case c.BasicUser != "" && c.BasicPassword != "":
		b.user, b.password = c.BasicUser, c.BasicPassword
	case c.Token != "":
		b.auth = "Bearer " + c.Token
	default:
		return nil, fmt.Errorf("bitbucketserver needs a `token`, or `username` and `password`")
	}
	return b, nil
}

// splitBitbucketServerPath finds the project and repository in either URL form.
func splitBitbucketServerPath(p string) (project, repo, prefix string, ok bool) {
	parts := strings.Split(p, "/")
	for i, part := range parts {
		switch {
		case part == "scm" && len(parts) == i+3:
			return parts[i+1], parts[i+2], joinPrefix(parts[:i]), true
		case part == "projects" && len(parts) >= i+4 && parts[i+2] == "repos":
			return parts[i+1], parts[i+3], joinPrefix(parts[:i]), true
		}
	}
	return "", "", "", false
}

func joinPrefix(parts []string) string {
	if len(parts) == 0 {
		return ""
	}
	return "/" + strings.Join(parts, "/")
}

// Post implements Notifier. Events without a commit are skipped.
func (b *bitbucketServer) Post(ctx context.Context, e *Event) error {
	s, ok := newCommitStatus(e, 255)
	if !ok {
		return nil
	}
	r := request{
		url: b.api + "/commits/" + s.SHA + "/builds",
		body: map[string]string{
			"key": s.Key, "name": s.Key, "state": bitbucketStates[s.State], "url": b.repoURL, "description": s.Description,
		},
		user: b.user, password: b.password,
	}
	if b.auth != "" {
		r.header = http.Header{"Authorization": {b.auth}}
	}
	_, err := b.p.do(ctx, r)
	return err
}
