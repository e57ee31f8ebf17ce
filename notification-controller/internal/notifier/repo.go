package notifier

import (
	"net/url"
	"regexp"
	"strings"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1"
)

// sha1Hex matches a full Git commit hash.
var sha1Hex = regexp.MustCompile(`^[0-9a-f]{40}$`)

// CommitOf returns the Git commit an event is about, from its `commit` metadata or from a
// revision in Weir's formats: `<ref>@sha1:<hash>`, `sha1:<hash>`, `<branch>/<hash>` or a bare
// hash. OCI digests (sha256) are not commits.
func CommitOf(e *eventv1.Event) (string, bool) {
	for _, k := range []string{eventv1.MetaCommitKey, eventv1.MetaRevisionKey, eventv1.MetaOriginRevisionKey} {
		if sha, ok := commitOfRevision(e.Metadata[k]); ok {
			return sha, true
		}
	}
	return "", false
}

func commitOfRevision(rev string) (string, bool) {
	rev = strings.ToLower(strings.TrimSpace(rev))
	if rev == "" {
		return "", false
	}
	if i := strings.LastIndex(rev, "@"); i >= 0 {
		rev = rev[i+1:]
	}
	if i := strings.LastIndex(rev, "/"); i >= 0 {
		rev = rev[i+1:]
	}
	rev = strings.TrimPrefix(rev, "sha1:")
	return rev, sha1Hex.MatchString(rev)
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

// CommitURL returns the web page of commit sha in the repository at repoURL, when the host is
// one whose URL scheme is known: GitHub, GitLab, Bitbucket Cloud, Gitea/Forgejo (codeberg.org,
// or a host named gitea.*, forgejo.*) and hosts named github.* or gitlab.*. SSH and scp-style
// URLs are mapped to https; credentials are dropped. Empty when no link can be made.
func CommitURL(repoURL, sha string) string {
	if !sha1Hex.MatchString(sha) {
		return ""
	}
	host, path, ok := webLocation(repoURL)
	if !ok {
		return ""
	}
	name := strings.ToLower(host)
	if i := strings.Index(name, ":"); i >= 0 {
		name = name[:i]
	}
	base := "https://" + host + "/" + path
	switch {
	case name == "github.com" || strings.HasPrefix(name, "github."):
		return base + "/commit/" + sha
	case name == "gitlab.com" || strings.HasPrefix(name, "gitlab."):
		return base + "/-/commit/" + sha
	case name == "bitbucket.org":
		return base + "/commits/" + sha
	case name == "codeberg.org" || strings.HasPrefix(name, "gitea.") || strings.HasPrefix(name, "forgejo."):
		return base + "/commit/" + sha
	}
	return ""
}

// webLocation returns the host and repository path of a Git URL in any of the usual forms.
func webLocation(repoURL string) (host, path string, ok bool) {
	s := strings.TrimSpace(repoURL)
	if !strings.Contains(s, "://") {
		// scp-like: [user@]host:path
		at := strings.Index(s, "@")
		colon := strings.Index(s, ":")
		if colon <= at+1 {
			return "", "", false
		}
		host, path = s[at+1:colon], s[colon+1:]
	} else {
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return "", "", false
		}
		host, path = u.Host, u.Path
		if u.Scheme == "ssh" {
			host = u.Hostname()
		}
	}
	path = strings.TrimSuffix(strings.Trim(path, "/"), ".git")
	if host == "" || !strings.Contains(path, "/") {
		return "", "", false
	}
	return host, path, true
}
