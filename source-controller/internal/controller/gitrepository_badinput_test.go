package controller

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/testenv"
	"weir.dev/source-controller/internal/gittest"
)

// TestGitRepositoryBadInput: each bad input ends in Ready=False with a specific reason and a
// message naming what is wrong, stalls only when a spec change is the only fix, and never shows
// a credential.
func TestGitRepositoryBadInput(t *testing.T) {
	srv := gittest.NewServer(t, gittest.Options{User: "git", Password: "R1ght-Xq9z"})
	srv.NewRepo(t, "org/app.git", "main", map[string]string{"a.yaml": "a"})
	repoURL := srv.URL("org/app.git")
	withSecret := func(name string) func(*sourcev1.GitRepository) {
		return func(o *sourcev1.GitRepository) { o.Spec.SecretRef = &meta.LocalObjectReference{Name: name} }
	}
	withRef := func(ref sourcev1.GitRepositoryRef) func(*sourcev1.GitRepository) {
		return func(o *sourcev1.GitRepository) {
			o.Spec.SecretRef = &meta.LocalObjectReference{Name: "good"}
			o.Spec.Reference = &ref
		}
	}
	cases := []struct {
		name    string
		url     string
		mutate  func(*sourcev1.GitRepository)
		reason  string
		message string
		stalled bool
	}{
		{name: "unreachable host", url: "http://127.0.0.1:1/org/app.git", reason: sourcev1.GitOperationFailedReason, message: "127.0.0.1:1"},
		{name: "wrong password", url: repoURL, mutate: withSecret("wrong"), reason: meta.AuthenticationFailedReason, message: "authentication failed"},
		{name: "missing secret", url: repoURL, mutate: withSecret("nope"), reason: meta.AuthenticationFailedReason, message: "secret 'nope' not found"},
		{name: "unknown branch", url: repoURL, mutate: withRef(sourcev1.GitRepositoryRef{Branch: "nope"}), reason: sourcev1.ReferenceNotFoundReason, message: "refs/heads/nope"},
		{name: "no semver match", url: repoURL, mutate: withRef(sourcev1.GitRepositoryRef{SemVer: ">=5.0.0"}), reason: sourcev1.ReferenceNotFoundReason, message: "no tag matches the semver range"},
		{name: "malformed URL", url: "http://%zz/org/app.git", reason: sourcev1.URLInvalidReason, message: "spec.url", stalled: true},
		{name: "password in URL", url: "http://git:Ur1-Hh4t@127.0.0.1/org/app.git", reason: sourcev1.URLInvalidReason, message: "must not carry a password", stalled: true},
		{name: "ref with ..", url: repoURL, mutate: withRef(sourcev1.GitRepositoryRef{Branch: "main/../x"}), reason: sourcev1.InvalidReferenceReason, message: "spec.ref.branch", stalled: true},
		{name: "ref with a control character", url: repoURL, mutate: withRef(sourcev1.GitRepositoryRef{Tag: "v1\x1b[31m"}), reason: sourcev1.InvalidReferenceReason, message: "spec.ref.tag", stalled: true},
		{name: "ssh without a secret", url: "ssh://git@127.0.0.1:1/org/app.git", reason: meta.AuthenticationFailedReason, message: "known_hosts", stalled: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := env.Namespace(t)
			createSecret(t, ns, "good", map[string][]byte{"username": []byte("git"), "password": []byte("R1ght-Xq9z")})
			createSecret(t, ns, "wrong", map[string][]byte{"username": []byte("git"), "password": []byte("Wr0ng-Jk2v")})
			obj := createGitRepository(t, ns, "bad", tc.url, tc.mutate)
			testenv.Eventually(t, timeout, env.ObjectIn(obj, meta.ReadyCondition, metav1.ConditionFalse, tc.reason, tc.message))
			if tc.stalled {
				if err := testenv.CheckCondition(obj, meta.StalledCondition, metav1.ConditionTrue, tc.reason, ""); err != nil {
					t.Error(err)
				}
				// Conditions and observedGeneration are separate patches: wait for both.
				testenv.Eventually(t, timeout, func() error {
					if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
						return err
					}
					if obj.Status.ObservedGeneration != obj.Generation {
						return fmt.Errorf("a stalled object must have observed its generation: observedGeneration %d, generation %d", obj.Status.ObservedGeneration, obj.Generation)
					}
					return nil
				})
			} else if err := testenv.CheckCondition(obj, meta.ReconcilingCondition, metav1.ConditionTrue, meta.ProgressingWithRetryReason, ""); err != nil {
				t.Error(err)
			}
			if obj.Status.Artifact != nil {
				t.Errorf("an artifact was stored: %+v", obj.Status.Artifact)
			}
			testenv.Eventually(t, timeout, func() error {
				for _, ev := range env.Events(t, ns, "bad") {
					if ev.Type == corev1.EventTypeWarning && ev.Reason == tc.reason {
						return nil
					}
				}
				return errString("no warning event with reason " + tc.reason)
			})
			for _, secret := range []string{"R1ght-Xq9z", "Wr0ng-Jk2v", "Ur1-Hh4t"} {
				assertNoSecret(t, obj, secret)
			}
		})
	}
}

// TestGitRepositorySymlinksNeverLeak: links to /etc/passwd and out of the tree are left out of
// the artifact with a warning event; a link inside the tree is stored as the file.
func TestGitRepositorySymlinksNeverLeak(t *testing.T) {
	passwd, err := os.ReadFile("/etc/passwd")
	if err != nil || len(passwd) == 0 {
		t.Skip("no /etc/passwd to leak on this machine")
	}
	ns := env.Namespace(t)
	srv := gittest.NewServer(t, gittest.Options{})
	srv.NewRepo(t, "org/app.git", "main", map[string]string{
		"app.yaml":          "kind: ConfigMap\n",
		"passwd":            "symlink:/etc/passwd",
		"apps/outside.yaml": "symlink:../../outside",
		"alias.yaml":        "symlink:app.yaml",
	})
	obj := createGitRepository(t, ns, "links", srv.URL("org/app.git"), nil)
	waitRevision(t, obj, "main@sha1:"+srv.Head(t, "org/app.git"))
	got := fetchFiles(t, obj.Status.Artifact)
	if got["alias.yaml"] != "kind: ConfigMap\n" {
		t.Errorf("a link inside the tree must be stored as its target's content, got %q", got["alias.yaml"])
	}
	for _, gone := range []string{"passwd", "apps/outside.yaml"} {
		if _, ok := got[gone]; ok {
			t.Errorf("%s points outside the tree and must not be in the artifact", gone)
		}
	}
	for name, content := range got {
		if strings.Contains(content, strings.SplitN(string(passwd), "\n", 2)[0]) {
			t.Errorf("%s carries /etc/passwd bytes", name)
		}
	}
	testenv.Eventually(t, timeout, func() error {
		for _, ev := range env.Events(t, ns, "links") {
			if ev.Reason == "EntriesDropped" && strings.Contains(ev.Message, "passwd") && strings.Contains(ev.Message, "apps/outside.yaml") {
				return nil
			}
		}
		return errString("no EntriesDropped event naming both links")
	})
}
