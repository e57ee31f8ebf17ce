package git

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/memory"
)

// Reference is what to check out. Precedence: Commit, Name, SemVer, Tag, Branch; Branch may be
// combined with Commit. All empty means the remote's default branch.
type Reference struct {
	Branch, Tag, SemVer, Name, Commit string
}

// Target is a Reference resolved against the remote.
type Target struct {
	// RefName is the full reference fetched, e.g. refs/heads/main; empty for a bare commit.
	RefName plumbing.ReferenceName
	// Short is the revision's prefix: branch, tag or full name; empty for a bare commit.
	Short string
	// Commit is the commit's hash.
	Commit string
	// TagObject is the hash of the annotated tag object, when the reference is one.
	TagObject string
}

// Revision is the artifact revision: `<short>@sha1:<commit>`, or `sha1:<commit>`.
func (t Target) Revision() string {
	if t.Short == "" {
		return "sha1:" + t.Commit
	}
	return t.Short + "@sha1:" + t.Commit
}

// ErrReferenceNotFound is returned when the remote has no reference matching the spec.
var ErrReferenceNotFound = errors.New("reference not found")

// Validate rejects reference values that can never be valid ref names, before any network
// call: git's own rules (no `..`, no control characters, no `~^:?*[\`, no leading `-`).
func (r Reference) Validate() error {
	check := func(field, v string) error {
		if v == "" {
			return nil
		}
		if strings.Contains(v, "..") || strings.HasPrefix(v, "-") || strings.HasPrefix(v, "/") ||
			strings.HasSuffix(v, "/") || strings.HasSuffix(v, ".lock") || strings.Contains(v, "@{") || strings.Contains(v, "//") {
			return fmt.Errorf("spec.ref.%s %q is not a valid Git reference name", field, v)
		}
		for _, c := range v {
			if c < 0x20 || c == 0x7f || strings.ContainsRune(" ~^:?*[\\", c) {
				return fmt.Errorf("spec.ref.%s %q is not a valid Git reference name (character %q)", field, v, c)
			}
		}
		return nil
	}
	for _, f := range []struct{ name, v string }{{"branch", r.Branch}, {"tag", r.Tag}, {"name", r.Name}} {
		if err := check(f.name, f.v); err != nil {
			return err
		}
	}
	if r.SemVer != "" {
		if _, err := semver.NewConstraint(r.SemVer); err != nil {
			return fmt.Errorf("spec.ref.semver %q is not a semver range: %v", r.SemVer, err)
		}
	}
	return nil
}

// Resolve asks the remote which commit ref points at, without cloning (one ls-remote).
func Resolve(ctx context.Context, u *url.URL, auth *Auth, opts Options, ref Reference) (Target, error) {
	if err := ref.Validate(); err != nil {
		return Target{}, err
	}
	if ref.Commit != "" {
		t := Target{Commit: ref.Commit}
		if ref.Branch != "" {
			t.RefName, t.Short = plumbing.NewBranchReferenceName(ref.Branch), ref.Branch
		}
		return t, nil
	}
	method, err := auth.method(u)
	if err != nil {
		return Target{}, err
	}
	remote := gogit.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{u.String()}})
	lo := &gogit.ListOptions{Auth: method, PeelingOption: gogit.AppendPeeled, ProxyOptions: opts.Proxy}
	if auth != nil {
		lo.CABundle, lo.ClientCert, lo.ClientKey = auth.CABundle, auth.ClientCert, auth.ClientKey
	}
	refs, err := remote.ListContext(ctx, lo)
	if err != nil {
		return Target{}, classify(u, err)
	}
	return pick(refs, ref)
}

// pick selects the target among the advertised refs.
func pick(refs []*plumbing.Reference, ref Reference) (Target, error) {
	byName := map[plumbing.ReferenceName]*plumbing.Reference{}
	for _, r := range refs {
		byName[r.Name()] = r
	}
	// resolve follows a name to its commit, through a peeled annotated tag.
	resolve := func(name plumbing.ReferenceName, short string) (Target, error) {
		r, ok := byName[name]
		if !ok {
			return Target{}, fmt.Errorf("%w: %s", ErrReferenceNotFound, name)
		}
		if r.Type() == plumbing.SymbolicReference {
			if r, ok = byName[r.Target()]; !ok {
				return Target{}, fmt.Errorf("%w: %s", ErrReferenceNotFound, name)
			}
		}
		t := Target{RefName: name, Short: short, Commit: r.Hash().String()}
		if peeled, ok := byName[plumbing.ReferenceName(string(name)+"^{}")]; ok {
			t.TagObject, t.Commit = t.Commit, peeled.Hash().String()
		}
		return t, nil
	}
	switch {
	case ref.Name != "":
		return resolve(plumbing.ReferenceName(ref.Name), ref.Name)
	case ref.SemVer != "":
		tag, err := highestTag(refs, ref.SemVer)
		if err != nil {
			return Target{}, err
		}
		return resolve(plumbing.NewTagReferenceName(tag), tag)
	case ref.Tag != "":
		return resolve(plumbing.NewTagReferenceName(ref.Tag), ref.Tag)
	case ref.Branch != "":
		return resolve(plumbing.NewBranchReferenceName(ref.Branch), ref.Branch)
	}
	head, ok := byName[plumbing.HEAD]
	if !ok {
		return Target{}, fmt.Errorf("%w: the remote advertises no HEAD; set spec.ref.branch", ErrReferenceNotFound)
	}
	if head.Type() == plumbing.SymbolicReference && head.Target().IsBranch() {
		return resolve(head.Target(), head.Target().Short())
	}
	// No symref capability: the branch HEAD points at, preferring main and master.
	var names []string
	for _, r := range refs {
		if r.Name().IsBranch() && r.Hash() == head.Hash() {
			names = append(names, r.Name().Short())
		}
	}
	sort.Slice(names, func(i, j int) bool {
		return rank(names[i]) < rank(names[j]) || (rank(names[i]) == rank(names[j]) && names[i] < names[j])
	})
	if len(names) == 0 {
		return Target{}, fmt.Errorf("%w: no branch matches the remote's HEAD; set spec.ref.branch", ErrReferenceNotFound)
	}
	return resolve(plumbing.NewBranchReferenceName(names[0]), names[0])
}

func rank(branch string) int {
	switch branch {
	case "main":
		return 0
	case "master":
		return 1
	}
	return 2
}

// highestTag returns the highest tag that parses as a semantic version within the range.
func highestTag(refs []*plumbing.Reference, constraint string) (string, error) {
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		return "", fmt.Errorf("spec.ref.semver %q is not a semver range: %v", constraint, err)
	}
	var best *semver.Version
	var bestTag string
	for _, r := range refs {
		if !r.Name().IsTag() || strings.HasSuffix(string(r.Name()), "^{}") {
			continue
		}
		tag := r.Name().Short()
		v, err := semver.NewVersion(tag)
		if err != nil || !c.Check(v) {
			continue
		}
		if best == nil || v.GreaterThan(best) {
			best, bestTag = v, tag
		}
	}
	if best == nil {
		return "", fmt.Errorf("%w: no tag matches the semver range %q", ErrReferenceNotFound, constraint)
	}
	return bestTag, nil
}
