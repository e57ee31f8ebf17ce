package controller

import (
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/source-controller/internal/helmtest"
)

// TestHelmRepositoryBadInput: each bad index or server ends in Ready=False with a specific
// reason and a message naming the fault, stores no artifact, and never shows the credentials.
func TestHelmRepositoryBadInput(t *testing.T) {
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	cases := []struct {
		name    string
		index   string
		handler http.Handler
		mutate  func(*sourcev1.HelmRepository)
		url     string
		reason  string
		message string
		stalled bool
	}{
		{name: "malformed", index: "apiVersion: v1\nentries: [: {\n", reason: sourcev1.IndexationFailedReason, message: "index.yaml is not a valid index"},
		{name: "unknown field", index: "apiVersion: v1\nentries: {}\nsurprise: true\n", reason: sourcev1.IndexationFailedReason, message: "index.yaml is not a valid index"},
		{name: "null entries", index: "apiVersion: v1\nentries:\n  app:\n  - null\n  - name: app\n    version: 1.0.0\n", reason: sourcev1.IndexationFailedReason, message: "chart 'app' has a null entry (item 0)"},
		{name: "no apiVersion", index: "entries: {}\n", reason: sourcev1.IndexationFailedReason, message: "no apiVersion"},
		{name: "oversized", index: "apiVersion: v1\nentries: {}\n# " + strings.Repeat("x", testMaxIndexSize) + "\n", reason: sourcev1.IndexationFailedReason, message: "over the size limit"},
		{name: "oversized, no length", reason: sourcev1.IndexationFailedReason, message: "over the size limit",
			handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				chunk := []byte(strings.Repeat("#", 64<<10) + "\n")
				for range testMaxIndexSize/len(chunk) + 2 {
					if _, err := w.Write(chunk); err != nil {
						return
					}
					w.(http.Flusher).Flush()
				}
			})},
		{name: "not found", handler: http.NotFoundHandler(), reason: sourcev1.IndexationFailedReason, message: "HTTP 404"},
		{name: "hanging server", reason: sourcev1.IndexationFailedReason, message: "timed out after 1s",
			handler: http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				select {
				case <-hang:
				case <-r.Context().Done():
				}
			}),
			mutate: func(o *sourcev1.HelmRepository) {
				withHelmSecret("good")(o)
				o.Spec.Timeout = &metav1.Duration{Duration: time.Second}
			}},
		{name: "wrong password", mutate: withHelmSecret("wrong"), reason: meta.AuthenticationFailedReason, message: "HTTP 401"},
		{name: "missing secret", mutate: withHelmSecret("nope"), reason: meta.AuthenticationFailedReason, message: "secret 'nope' not found"},
		{name: "secret without password", mutate: withHelmSecret("half"), reason: meta.AuthenticationFailedReason, message: "needs both 'username' and 'password'"},
		{name: "password in URL", url: "http://helm:Url-Pw-3Xc@127.0.0.1:1/", reason: sourcev1.URLInvalidReason, message: "must not carry credentials", stalled: true},
		{name: "unreachable", url: "http://127.0.0.1:1/", reason: sourcev1.IndexationFailedReason, message: "127.0.0.1:1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := env.Namespace(t)
			createSecret(t, ns, "good", map[string][]byte{"username": []byte("helm"), "password": []byte("Good-Pw-7Lm")})
			createSecret(t, ns, "wrong", map[string][]byte{"username": []byte("helm"), "password": []byte("Wrong-Pw-2Kd")})
			createSecret(t, ns, "half", map[string][]byte{"username": []byte("helm")})
			repo := helmtest.NewRepo(t, helmtest.RepoOptions{User: "helm", Password: "Good-Pw-7Lm", Handler: tc.handler})
			if tc.index != "" {
				repo.SetIndex(t, []byte(tc.index))
			} else if tc.handler == nil {
				publish(t, repo, helmtest.Chart{Name: "app", Version: "1.0.0"})
			}
			url := tc.url
			if url == "" {
				url = repo.URL
			}
			mutate := tc.mutate
			if mutate == nil {
				mutate = withHelmSecret("good")
			}
			obj := createHelmRepository(t, ns, "bad", url, mutate)
			waitFailure(t, obj, tc.reason, tc.message, tc.stalled)
			if obj.Status.Artifact != nil {
				t.Errorf("an artifact was stored: %+v", obj.Status.Artifact)
			}
			if !tc.stalled {
				if c := conditionOf(obj, sourcev1.FetchFailedCondition); c == nil || c.Reason != tc.reason {
					t.Errorf("FetchFailed = %+v, want reason %s", c, tc.reason)
				}
			}
			assertNoLeak(t, obj, "Good-Pw-7Lm", "Wrong-Pw-2Kd", "Url-Pw-3Xc")
		})
	}
}

func withHelmSecret(name string) func(*sourcev1.HelmRepository) {
	return func(o *sourcev1.HelmRepository) { o.Spec.SecretRef = &meta.LocalObjectReference{Name: name} }
}

// conditionOf returns obj's condition typ, or nil.
func conditionOf(obj interface{ GetConditions() []metav1.Condition }, typ string) *metav1.Condition {
	for _, c := range obj.GetConditions() {
		if c.Type == typ {
			return &c
		}
	}
	return nil
}
