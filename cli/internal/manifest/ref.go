package manifest

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"weir.dev/cli/internal/objects"
)

// Ref is a parsed `[Kind/]name[.namespace]` flag value.
type Ref struct {
	Kind, Name, Namespace string
}

// String formats r as the flag takes it.
func (r Ref) String() string {
	s := r.Kind + "/" + r.Name
	if r.Namespace != "" {
		s += "." + r.Namespace
	}
	return s
}

// refSpec says what one flag accepts.
type refSpec struct {
	// flag is the flag's name, for errors.
	flag string
	// kinds are the kinds the flag accepts, by API kind name; empty accepts any kind.
	kinds []string
	// def is the kind when the value names none; empty requires a kind.
	def string
	// wildcard accepts the name `*`.
	wildcard bool
	// noNamespace refuses `.namespace`, for references that must stay in the namespace.
	noNamespace bool
}

// parseRef parses `[Kind/]name[.namespace]`. The namespace follows the last dot, as namespaces
// have none. The kind may be written in any case and by a Weir kind's short name (`gitrepo`).
func parseRef(s refSpec, value string) (Ref, error) {
	form := "[<Kind>/]<name>[.<namespace>]"
	if s.def == "" {
		form = "<Kind>/<name>[.<namespace>]"
	}
	if s.noNamespace {
		form = strings.TrimSuffix(form, "[.<namespace>]")
	}
	bad := func(why string) (Ref, error) {
		return Ref{}, fmt.Errorf("--%s %q: %s (want %s)", s.flag, value, why, form)
	}
	var r Ref
	kind, rest, hasKind := strings.Cut(value, "/")
	if !hasKind {
		if s.def == "" {
			return bad("no kind")
		}
		kind, rest = s.def, value
	}
	k, ok := matchKind(kind, s.kinds)
	if !ok {
		return bad(fmt.Sprintf("kind %q is not one of %s", kind, strings.Join(s.kinds, ", ")))
	}
	r.Kind = k
	r.Name = rest
	if i := strings.LastIndex(rest, "."); i >= 0 && !s.noNamespace {
		r.Name, r.Namespace = rest[:i], rest[i+1:]
		if errs := validation.IsDNS1123Label(r.Namespace); len(errs) > 0 {
			return bad(fmt.Sprintf("namespace %q: %s", r.Namespace, errs[0]))
		}
	}
	if r.Name == "*" && s.wildcard {
		return r, nil
	}
	if r.Name == "" {
		return bad("no name")
	}
	if errs := validation.IsDNS1123Subdomain(r.Name); len(errs) > 0 {
		return bad(fmt.Sprintf("name %q: %s", r.Name, errs[0]))
	}
	return r, nil
}

// parseRefs parses each value with parseRef.
func parseRefs(s refSpec, values []string) ([]Ref, error) {
	var refs []Ref
	for _, v := range values {
		r, err := parseRef(s, v)
		if err != nil {
			return nil, err
		}
		refs = append(refs, r)
	}
	return refs, nil
}

// matchKind resolves kind against the accepted kinds; any kind (as written, when it is no
// Weir kind) when kinds is empty.
func matchKind(kind string, kinds []string) (string, bool) {
	if kind == "" {
		return "", false
	}
	canonical := kind
	if k, err := objects.FindKind(kind); err == nil {
		canonical = k.Kind
	}
	if len(kinds) == 0 {
		return canonical, true
	}
	for _, k := range kinds {
		if strings.EqualFold(k, canonical) {
			return k, true
		}
	}
	return "", false
}

// checkName refuses a name the API server would refuse, naming what is wrong.
func checkName(what, name string) error {
	if name == "" {
		return fmt.Errorf("%s needs a name", what)
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return fmt.Errorf("%s name %q: %s", what, name, errs[0])
	}
	return nil
}
