package controller

import (
	"strings"
	"testing"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/source-controller/internal/gittest"
)

// TestGitRepositorySubmoduleOnAnotherHost: spec.secretRef's credentials never reach a
// submodule's other host; when that host wants credentials, the condition says why it got none.
func TestGitRepositorySubmoduleOnAnotherHost(t *testing.T) {
	ns := env.Namespace(t)
	home := gittest.NewServer(t, gittest.Options{User: "git", Password: "Home-Pw-7Rq"})
	other := gittest.NewServer(t, gittest.Options{User: "git", Password: "Other-Pw-3Xz"})
	other.NewRepo(t, "org/lib.git", "main", map[string]string{"lib.txt": "lib"})
	app := home.NewRepo(t, "org/app.git", "main", map[string]string{"app.yaml": "app"})
	app.SetSubmodule("lib", other.URL("org/lib.git"), other.Head(t, "org/lib.git"))
	app.Push()
	createSecret(t, ns, "creds", map[string][]byte{"username": []byte("git"), "password": []byte("Home-Pw-7Rq")})
	before := len(other.Authorizations())

	obj := createGitRepository(t, ns, "app", home.URL("org/app.git"), func(o *sourcev1.GitRepository) {
		o.Spec.SecretRef = &meta.LocalObjectReference{Name: "creds"}
		o.Spec.RecurseSubmodules = true
	})
	waitFailure(t, obj, meta.AuthenticationFailedReason, `submodule "lib": authentication failed for `+other.URL("org/lib.git"), false)
	if msg := readyMessage(obj); !strings.Contains(msg, "credentials are sent only to "+home.HTTPAddress()) {
		t.Errorf("Ready message %q does not say where the credentials go", msg)
	}
	for _, a := range other.Authorizations()[before:] {
		if a != "" {
			t.Fatalf("the submodule's host received Authorization %q", a)
		}
	}
	assertNoLeak(t, obj, "Home-Pw-7Rq")
}

// readyMessage returns the message of obj's Ready condition.
func readyMessage(obj *sourcev1.GitRepository) string {
	for _, c := range obj.Status.Conditions {
		if c.Type == meta.ReadyCondition {
			return c.Message
		}
	}
	return ""
}
