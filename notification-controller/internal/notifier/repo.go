package notifier

import (
	"net/url"
	"strings"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1"

	"weir.dev/pkg/gitweb"
)

// CommitOf returns the Git commit an event is about, from its `commit` metadata or from a
// revision in Weir's formats: `<ref>@sha1:<hash>`, `sha1:<hash>`, `<branch>/<hash>` or a bare
// hash. OCI digests (sha256) are not commits.
func CommitOf(e *eventv1.Event) (string, bool) {
	for _, k := range []string{eventv1.MetaCommitKey, eventv1.MetaRevisionKey, eventv1.MetaOriginRevisionKey} {
		if sha, ok := gitweb.Commit(e.Metadata[k]); ok {
			return sha, true
		}
	}
	return "", false
}

// repository is a Git repository URL split into what the commit-status APIs need.
type repository struct {
	// Scheme and Host of the server, e.g. "https" and "github.example.com:8443".
	Scheme, Host string
	// Prefix is any path before the repository path (a server under a context path).
	Prefix string
	// Path is the repository path without ".git", e.g. "org/app" or "group/sub/app".
	Path string
}

// parseRepository splits an http(s) repository URL, refusing credentials in it (a token
// belongs in the Secret) and paths with fewer than minSegments parts.
func parseRepository(address string, minSegments int) (repository, error) {
	u, err := url.Parse(address)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return repository{}, permanentf("the address must be the repository's http(s) URL")
	}
	if u.User != nil {
		return repository{}, permanentf("the repository address must not embed credentials: put the token in the Secret")
	}
	p := strings.TrimSuffix(strings.Trim(u.Path, "/"), ".git")
	if strings.Count(p, "/")+1 < minSegments || p == "" {
		return repository{}, permanentf("the address must name a repository, e.g. https://host/owner/repo")
	}
	return repository{Scheme: u.Scheme, Host: u.Host, Path: p}, nil
}

func (r repository) base() string { return r.Scheme + "://" + r.Host + r.Prefix }

// ownerRepo returns the last two segments of the path.
func (r repository) ownerRepo() (string, string) {
	parts := strings.Split(r.Path, "/")
	return parts[len(parts)-2], parts[len(parts)-1]
}
