package git_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weir.dev/source-controller/internal/git"
	"weir.dev/source-controller/internal/gittest"
)

// TestSubmoduleCredentialsStayOnTheirHost: spec.url's basic-auth credentials go to a
// submodule on the same scheme, host and port, never to a submodule on another port, which is
// fetched anonymously; when that other host wants credentials, the error says why it got none.
func TestSubmoduleCredentialsStayOnTheirHost(t *testing.T) {
	home := gittest.NewServer(t, gittest.Options{User: "u", Password: "s3cret-pw"})
	other := gittest.NewServer(t, gittest.Options{})
	home.NewRepo(t, "org/lib.git", "main", map[string]string{"lib.txt": "home lib"})
	other.NewRepo(t, "org/public.git", "main", map[string]string{"public.txt": "public"})
	auth := &git.Auth{Username: "u", Password: "s3cret-pw"}

	checkout := func(t *testing.T, path, subURL, subCommit string) (string, error) {
		t.Helper()
		repo := home.NewRepo(t, path, "main", map[string]string{"app.yaml": "app"})
		repo.SetSubmodule("sub", subURL, subCommit)
		repo.Push()
		u := mustURL(t, home.URL(path))
		target, err := git.Resolve(ctx(t), u, auth, git.Options{}, git.Reference{})
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		_, _, err = git.Checkout(ctx(t), dir, u, auth, git.Options{RecurseSubmodules: true}, &target, false)
		return dir, err
	}
	file := func(t *testing.T, p string) string {
		t.Helper()
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	t.Run("other host gets no credentials", func(t *testing.T) {
		dir, err := checkout(t, "org/app-other.git", other.URL("org/public.git"), other.Head(t, "org/public.git"))
		if err != nil {
			t.Fatal(err)
		}
		if got := file(t, filepath.Join(dir, "sub", "public.txt")); got != "public" {
			t.Fatalf("sub/public.txt = %q", got)
		}
		auths := other.Authorizations()
		if len(auths) == 0 {
			t.Fatal("the other server saw no request")
		}
		for _, a := range auths {
			if a != "" {
				t.Fatalf("the other server received Authorization %q", a)
			}
		}
	})

	t.Run("same host gets them", func(t *testing.T) {
		dir, err := checkout(t, "org/app-same.git", "../lib.git", home.Head(t, "org/lib.git"))
		if err != nil {
			t.Fatal(err)
		}
		if got := file(t, filepath.Join(dir, "sub", "lib.txt")); got != "home lib" {
			t.Fatalf("sub/lib.txt = %q", got)
		}
	})

	t.Run("other host wanting credentials", func(t *testing.T) {
		private := gittest.NewServer(t, gittest.Options{User: "u", Password: "s3cret-pw"})
		private.NewRepo(t, "org/private.git", "main", map[string]string{"p.txt": "p"})
		before := len(private.Authorizations())
		_, err := checkout(t, "org/app-private.git", private.URL("org/private.git"), private.Head(t, "org/private.git"))
		if !errors.Is(err, git.ErrAuthentication) || !strings.Contains(err.Error(), `submodule "sub"`) ||
			!strings.Contains(err.Error(), "sent only to "+home.HTTPAddress()) {
			t.Fatalf("got %v, want an authentication error saying credentials go only to %s", err, home.HTTPAddress())
		}
		for _, a := range private.Authorizations()[before:] {
			if a != "" {
				t.Fatalf("the other server received Authorization %q", a)
			}
		}
	})
}
