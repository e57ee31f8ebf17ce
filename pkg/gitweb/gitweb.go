// Package gitweb links Git revisions to their commit pages on the well-known Git hosts, for
// notifications and the web UI.
package gitweb

import (
	"net/url"
	"regexp"
	"strings"
)

// sha1Hex matches a full Git commit hash.
var sha1Hex = regexp.MustCompile(`^[0-9a-f]{40}$`)

// Commit returns the commit of a revision in Weir's formats: `<ref>@sha1:<hash>`,
// `sha1:<hash>`, `<branch>/<hash>` or a bare hash. OCI digests (sha256) are not commits.
func Commit(rev string) (string, bool) {
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
