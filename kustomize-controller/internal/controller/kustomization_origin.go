package controller

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"weir.dev/pkg/kustomize/build"
)

// Messages about an applied object name the file and line of the artifact it was built from, as
// build errors do: "apps/web/deploy.yaml:14: Deployment/web/api: dry-run failed (Invalid): …".
// reconcileBuild records the origins (build.Options.Origins); a run that skipped the build (see
// kustomization_skip.go) has none, and its messages name the objects alone.

// originPrefix is "path:line: " for obj, "" when its origin is unknown.
func (sc *ksScope) originPrefix(obj *unstructured.Unstructured) string {
	if o := sc.origins.Of(obj); o != "" {
		return o + ": "
	}
	return ""
}

// originError is err with the origin of each built object its message names in front of that
// object (see withOrigins); err when it names none. It unwraps to err, so its class is kept.
func (sc *ksScope) originError(err error) error {
	if err == nil || len(sc.origins) == 0 {
		return err
	}
	msg := withOrigins(sc.origins, err.Error())
	if msg == err.Error() {
		return err
	}
	return &originErr{msg: msg, err: err}
}

type originErr struct {
	msg string
	err error
}

func (e *originErr) Error() string { return e.msg }
func (e *originErr) Unwrap() error { return e.err }

// withOrigins rewrites msg so that every object of origins it names as Kind/namespace/name (the
// form of the apply engine's messages) reads "path:line: Kind/namespace/name:". A name already
// followed by a colon keeps its one colon.
func withOrigins(origins build.Origins, msg string) string {
	var b strings.Builder
	rest := msg
	for rest != "" {
		i := strings.IndexFunc(rest, func(r rune) bool { return !isTokenSep(r) })
		if i < 0 {
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:i])
		rest = rest[i:]
		j := strings.IndexFunc(rest, isTokenSep)
		if j < 0 {
			j = len(rest)
		}
		token := rest[:j]
		rest = rest[j:]
		id, colon := token, ""
		if strings.HasSuffix(id, ":") {
			id, colon = strings.TrimSuffix(id, ":"), ":"
		}
		o, ok := origins[id]
		if !ok || strings.Count(id, "/") == 0 {
			b.WriteString(token)
			continue
		}
		b.WriteString(o + ": " + id)
		switch {
		case colon != "":
			b.WriteString(colon)
		case strings.HasPrefix(rest, " "):
			b.WriteString(":")
		}
	}
	return b.String()
}

// isTokenSep separates the words of a message in which withOrigins looks for object names.
func isTokenSep(r rune) bool {
	return strings.ContainsRune(" \t\n[](),'\"", r)
}
