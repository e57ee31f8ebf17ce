package build

import (
	"net/url"
	"regexp"
	"strings"
)

// AllowRemoteBasesFlag is the flag, of kustomize-controller and of `weir build`/`weir diff`, that
// lets builds fetch remote kustomize resources; errors that refuse one name it.
const AllowRemoteBasesFlag = "--allow-remote-bases"

// scpUser is the user of an scp-like Git address (git@host:org/repo), as kustomize matches it.
var scpUser = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*@`)

// isRemote reports whether kustomize could fetch s (over HTTP, or by running git) when it
// finds s where it accepts a path. It is a superset of what kustomize v0.21 treats as remote:
// an http(s) URL (any file field), and every form its Git URL parser accepts (any scheme with
// "://", including file:// and ssh://, "git::" prefixes, github.com/ shorthands and scp-like
// user@host:path addresses). A "key=value" entry (generator files) is remote when its value is.
func isRemote(s string) bool {
	if remoteForm(s) {
		return true
	}
	if _, v, ok := strings.Cut(s, "="); ok {
		return remoteForm(v)
	}
	return false
}

func remoteForm(s string) bool {
	t := strings.ToLower(strings.TrimSpace(s))
	if strings.HasPrefix(t, "git::") || strings.Contains(t, "://") ||
		strings.HasPrefix(t, "github.com/") || strings.HasPrefix(t, "github.com:") {
		return true
	}
	if u, err := url.Parse(t); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		return true // "http:host/x": kustomize's loader would try it
	}
	if m := scpUser.FindString(t); m != "" && strings.ContainsAny(t[len(m):], "/:") {
		return true
	}
	return false
}

// userinfo is the user information of a URL ("://user:password@").
var userinfo = regexp.MustCompile(`://[^/?#@]*@`)

// redactURL drops the user information of a URL-like reference, for messages.
func redactURL(s string) string { return userinfo.ReplaceAllString(s, "://") }
