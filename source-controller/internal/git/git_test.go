package git_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"golang.org/x/crypto/ssh"

	"weir.dev/source-controller/internal/git"
	"weir.dev/source-controller/internal/gittest"
)

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// TestResolveEveryReferenceKind resolves each kind of reference with one ls-remote (no fetch),
// then checks out what it resolved and finds the expected file.
func TestResolveEveryReferenceKind(t *testing.T) {
	srv := gittest.NewServer(t, gittest.Options{User: "u", Password: "p"})
	repo := srv.NewRepo(t, "org/app.git", "main", map[string]string{"f.txt": "v0"})
	repo.Tag("v1.0.0", true, nil)
	c1 := repo.Commit(map[string]string{"f.txt": "v1"}, "second", nil)
	repo.Tag("v1.2.0", false, nil)
	repo.Tag("not-semver", false, nil)
	repo.Branch("feature")
	cf := repo.Commit(map[string]string{"f.txt": "feature"}, "on feature", nil)
	repo.Push()

	u := mustURL(t, srv.URL("org/app.git"))
	auth := &git.Auth{Username: "u", Password: "p"}
	cases := []struct {
		name     string
		ref      git.Reference
		revision string // prefix; the commit is checked separately when known
		commit   string
		content  string
	}{
		{"default branch", git.Reference{}, "main@sha1:", c1, "v1"},
		{"branch", git.Reference{Branch: "feature"}, "feature@sha1:", cf, "feature"},
		{"annotated tag", git.Reference{Tag: "v1.0.0"}, "v1.0.0@sha1:", "", "v0"},
		{"lightweight tag", git.Reference{Tag: "v1.2.0"}, "v1.2.0@sha1:", c1, "v1"},
		{"semver", git.Reference{SemVer: ">=1.0.0 <2.0.0"}, "v1.2.0@sha1:", c1, "v1"},
		{"semver lower range", git.Reference{SemVer: "~1.0"}, "v1.0.0@sha1:", "", "v0"},
		{"name", git.Reference{Name: "refs/heads/feature"}, "refs/heads/feature@sha1:", cf, "feature"},
		{"commit", git.Reference{Commit: c1}, "sha1:" + c1, c1, "v1"},
		{"branch and commit", git.Reference{Branch: "main", Commit: c1}, "main@sha1:" + c1, c1, "v1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := srv.Fetches.Load()
			target, err := git.Resolve(ctx(t), u, auth, git.Options{}, tc.ref)
			if err != nil {
				t.Fatal(err)
			}
			if srv.Fetches.Load() != before {
				t.Fatalf("Resolve fetched objects; it must only list refs")
			}
			if !strings.HasPrefix(target.Revision(), tc.revision) || (tc.commit != "" && target.Commit != tc.commit) {
				t.Fatalf("revision %s (commit %s), want prefix %s commit %s", target.Revision(), target.Commit, tc.revision, tc.commit)
			}
			dir := t.TempDir()
			_, commit, err := git.Checkout(ctx(t), dir, u, auth, git.Options{}, &target, tc.ref.Commit != "")
			if err != nil {
				t.Fatal(err)
			}
			if commit.Hash.String() != target.Commit {
				t.Fatalf("checked out %s, resolved %s", commit.Hash, target.Commit)
			}
			b, err := os.ReadFile(filepath.Join(dir, "f.txt"))
			if err != nil || string(b) != tc.content {
				t.Fatalf("f.txt = %q, %v; want %q", b, err, tc.content)
			}
		})
	}
}

func TestResolveFailures(t *testing.T) {
	srv := gittest.NewServer(t, gittest.Options{User: "u", Password: "p"})
	srv.NewRepo(t, "org/app.git", "main", map[string]string{"f.txt": "v0"})
	u := mustURL(t, srv.URL("org/app.git"))
	good := &git.Auth{Username: "u", Password: "p"}
	cases := []struct {
		name string
		u    *url.URL
		auth *git.Auth
		ref  git.Reference
		want error
		text string
	}{
		{"wrong password", u, &git.Auth{Username: "u", Password: "wrong"}, git.Reference{}, git.ErrAuthentication, "authentication failed"},
		{"no credentials", u, nil, git.Reference{}, git.ErrAuthentication, "authentication failed"},
		{"unknown branch", u, good, git.Reference{Branch: "nope"}, git.ErrReferenceNotFound, "refs/heads/nope"},
		{"no semver match", u, good, git.Reference{SemVer: ">=9"}, git.ErrReferenceNotFound, "no tag matches the semver range"},
		{"unreachable host", mustURL(t, "http://127.0.0.1:1/org/app.git"), good, git.Reference{}, nil, "127.0.0.1:1"},
		{"ref with ..", u, good, git.Reference{Branch: "a..b"}, nil, "not a valid Git reference name"},
		{"ref with control character", u, good, git.Reference{Tag: "v1\x07"}, nil, "not a valid Git reference name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := git.Resolve(ctx(t), tc.u, tc.auth, git.Options{}, tc.ref)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v is not %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Errorf("error %q lacks %q", err, tc.text)
			}
			if strings.Contains(err.Error(), "wrong") {
				t.Errorf("error %q leaks the password", err)
			}
		})
	}
}

func TestHTTPSWithCustomCA(t *testing.T) {
	srv := gittest.NewServer(t, gittest.Options{TLS: true})
	srv.NewRepo(t, "org/app.git", "main", map[string]string{"f.txt": "tls"})
	u := mustURL(t, srv.URL("org/app.git"))
	if _, err := git.Resolve(ctx(t), u, nil, git.Options{}, git.Reference{}); err == nil {
		t.Fatal("an unknown CA must be refused")
	}
	target, err := git.Resolve(ctx(t), u, &git.Auth{CABundle: srv.CA}, git.Options{}, git.Reference{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := git.Checkout(ctx(t), t.TempDir(), u, &git.Auth{CABundle: srv.CA}, git.Options{}, &target, false); err != nil {
		t.Fatal(err)
	}
}

func TestSSHWithKnownHosts(t *testing.T) {
	srv := gittest.NewServer(t, gittest.Options{SSH: true})
	srv.NewRepo(t, "org/app.git", "main", map[string]string{"f.txt": "ssh"})
	u := mustURL(t, srv.SSHAddress()+"/org/app.git")
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	identity := pem.EncodeToMemory(block)

	auth, err := git.AuthFromSecretData(u, map[string][]byte{"identity": identity, "known_hosts": srv.KnownHosts(t)})
	if err != nil {
		t.Fatal(err)
	}
	target, err := git.Resolve(ctx(t), u, auth, git.Options{}, git.Reference{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, _, err := git.Checkout(ctx(t), dir, u, auth, git.Options{}, &target, false); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "f.txt")); string(b) != "ssh" {
		t.Fatalf("f.txt = %q", b)
	}

	// A host key that does not match known_hosts is refused.
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	otherPub, _ := ssh.NewPublicKey(other)
	wrong := []byte(strings.Fields(string(srv.KnownHosts(t)))[0] + " " + string(ssh.MarshalAuthorizedKey(otherPub)))
	auth.KnownHosts = wrong
	if _, err := git.Resolve(ctx(t), u, auth, git.Options{}, git.Reference{}); err == nil || !strings.Contains(err.Error(), "known_hosts") {
		t.Fatalf("got %v, want a host key mismatch naming known_hosts", err)
	}
	// Missing keys are named.
	if _, err := git.AuthFromSecretData(u, map[string][]byte{"identity": identity}); err == nil || !strings.Contains(err.Error(), "known_hosts") {
		t.Fatalf("got %v, want an error naming known_hosts", err)
	}
}

func TestVerify(t *testing.T) {
	signer, err := openpgp.NewEntity("Weir", "", "signer@weir.dev", nil)
	if err != nil {
		t.Fatal(err)
	}
	stranger, _ := openpgp.NewEntity("Other", "", "other@weir.dev", nil)
	keys := map[string][]byte{"signer.asc": armored(t, signer)}

	srv := gittest.NewServer(t, gittest.Options{})
	repo := srv.NewRepo(t, "org/app.git", "main", map[string]string{"f.txt": "v0"})
	repo.Commit(map[string]string{"f.txt": "signed"}, "signed", signer)
	repo.Tag("v1.0.0", true, signer)
	repo.Tag("v1.0.1", true, stranger)
	repo.Push()
	u := mustURL(t, srv.URL("org/app.git"))

	checkout := func(ref git.Reference) (*git.Target, func() error, func() error) {
		target, err := git.Resolve(ctx(t), u, nil, git.Options{}, ref)
		if err != nil {
			t.Fatal(err)
		}
		r, c, err := git.Checkout(ctx(t), t.TempDir(), u, nil, git.Options{}, &target, false)
		if err != nil {
			t.Fatal(err)
		}
		return &target, func() error { _, err := git.VerifyCommit(c, keys); return err },
			func() error { _, err := git.VerifyTag(r, target.TagObject, keys); return err }
	}
	_, commit, tag := checkout(git.Reference{Tag: "v1.0.0"})
	if err := commit(); err != nil {
		t.Errorf("signed commit: %v", err)
	}
	if err := tag(); err != nil {
		t.Errorf("signed tag: %v", err)
	}
	_, _, tag = checkout(git.Reference{Tag: "v1.0.1"})
	if err := tag(); !errors.Is(err, git.ErrVerification) {
		t.Errorf("tag signed by a stranger: got %v", err)
	}
	repo.Commit(map[string]string{"f.txt": "unsigned"}, "unsigned", nil)
	repo.Push()
	_, commit, _ = checkout(git.Reference{Branch: "main"})
	if err := commit(); !errors.Is(err, git.ErrVerification) || !strings.Contains(err.Error(), "not signed") {
		t.Errorf("unsigned commit: got %v", err)
	}
}

func armored(t *testing.T, e *openpgp.Entity) []byte {
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return buf.Bytes()
}

func TestSparseCheckoutAndSubmodules(t *testing.T) {
	srv := gittest.NewServer(t, gittest.Options{})
	srv.NewRepo(t, "org/lib.git", "main", map[string]string{"lib.txt": "lib"})
	repo := srv.NewRepo(t, "org/app.git", "main", map[string]string{"apps/a.yaml": "a", "infra/i.yaml": "i"})
	u := mustURL(t, srv.URL("org/app.git"))

	target, _ := git.Resolve(ctx(t), u, nil, git.Options{}, git.Reference{})
	dir := t.TempDir()
	if _, _, err := git.Checkout(ctx(t), dir, u, nil, git.Options{SparseCheckout: []string{"apps"}}, &target, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "apps", "a.yaml")); err != nil {
		t.Errorf("apps/a.yaml missing from the sparse checkout: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "infra")); err == nil {
		t.Errorf("infra/ is outside the sparse checkout but was checked out")
	}

	// A submodule with a local path URL must be refused; a relative http one is followed.
	for _, tc := range []struct{ url, want string }{
		{"/etc", "not an http(s) or ssh URL"},
		{"file:///etc", "scheme \"file\" is not allowed"},
		{"../lib.git", ""},
	} {
		t.Run(tc.url, func(t *testing.T) {
			repo.SetSubmodule("lib", tc.url, srv.Head(t, "org/lib.git"))
			repo.Push()
			target, _ := git.Resolve(ctx(t), u, nil, git.Options{}, git.Reference{})
			dir := t.TempDir()
			_, _, err := git.Checkout(ctx(t), dir, u, nil, git.Options{RecurseSubmodules: true}, &target, false)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if b, _ := os.ReadFile(filepath.Join(dir, "lib", "lib.txt")); string(b) != "lib" {
					t.Fatalf("submodule not checked out: lib/lib.txt = %q", b)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestBearerToken(t *testing.T) {
	srv := gittest.NewServer(t, gittest.Options{BearerToken: "T0k3n-abc"})
	srv.NewRepo(t, "org/app.git", "main", map[string]string{"f.txt": "v0"})
	u := mustURL(t, srv.URL("org/app.git"))
	auth, err := git.AuthFromSecretData(u, map[string][]byte{"bearerToken": []byte("T0k3n-abc")})
	if err != nil {
		t.Fatal(err)
	}
	target, err := git.Resolve(ctx(t), u, auth, git.Options{}, git.Reference{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := git.Checkout(ctx(t), t.TempDir(), u, auth, git.Options{}, &target, false); err != nil {
		t.Fatal(err)
	}
	_, err = git.Resolve(ctx(t), u, &git.Auth{BearerToken: "wrong"}, git.Options{}, git.Reference{})
	if !errors.Is(err, git.ErrAuthentication) || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("got %v, want an authentication error without the token", err)
	}
	if _, err := git.AuthFromSecretData(u, map[string][]byte{"bearerToken": []byte("x"), "username": []byte("u")}); err == nil {
		t.Fatal("a secret with both a bearer token and a username must be refused")
	}
}
