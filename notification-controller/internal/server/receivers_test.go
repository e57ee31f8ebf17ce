package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // Nexus signs with HMAC-SHA1.
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	notificationv1 "weir.dev/api/notification/v1"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/notification-controller/internal/harness"
	"weir.dev/notification-controller/internal/server"
)

const hookToken = "hook-token-that-must-stay-secret-0001"

func mac(h func() hash.Hash, body []byte) string {
	m := hmac.New(h, []byte(hookToken))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// call is a request some sender makes to a Receiver of one type.
type call struct {
	header http.Header
	body   []byte
}

var (
	pushBody    = []byte(`{"ref":"refs/heads/main","repository":{"full_name":"org/app"}}`)
	harborBody  = []byte(`{"type":"PUSH_ARTIFACT","occur_at":1,"event_data":{"resources":[{"tag":"v1"}]}}`)
	dockerBody  = []byte(`{"callback_url":"https://registry.hub.docker.com/u/org/app/hook/x/","push_data":{"tag":"v1"},"repository":{"repo_name":"org/app"}}`)
	quayBody    = []byte(`{"repository":"org/app","docker_url":"quay.io/org/app","updated_tags":["v1"]}`)
	nexusBody   = []byte(`{"timestamp":"2026-01-01T00:00:00.000+0000","action":"CREATED","repositoryName":"maven-releases"}`)
	acrBody     = []byte(`{"id":"1","timestamp":"2026-01-01T00:00:00Z","action":"push","target":{"repository":"podinfo","tag":"6.5.1","digest":"sha256:0"},"request":{"host":"weir.azurecr.io"}}`)
	cdeventBody = []byte(`{"context":{"version":"0.4.1","id":"1","source":"ci","type":"dev.cdevents.artifact.published.0.1.1","timestamp":"2026-01-01T00:00:00Z"},"subject":{"id":"pkg:oci/app@sha256:0"}}`)
)

// senders are, per type, a correct request and, where the type authenticates, a forged one.
var senders = map[string]struct{ good, forged call }{
	"generic": {good: call{body: []byte("anything")}},
	"generic-hmac": {
		good:   call{header: http.Header{"X-Signature": {"sha256=" + mac(sha256.New, pushBody)}}, body: pushBody},
		forged: call{header: http.Header{"X-Signature": {"sha256=" + mac(sha256.New, []byte("other body"))}}, body: pushBody},
	},
	"github": {
		good:   call{header: http.Header{"X-Hub-Signature-256": {"sha256=" + mac(sha256.New, pushBody)}, "X-Github-Event": {"push"}}, body: pushBody},
		forged: call{header: http.Header{"X-Hub-Signature-256": {"sha256=" + strings.Repeat("ab", 32)}, "X-Github-Event": {"push"}}, body: pushBody},
	},
	"gitlab": {
		good:   call{header: http.Header{"X-Gitlab-Token": {hookToken}, "X-Gitlab-Event": {"Push Hook"}}, body: pushBody},
		forged: call{header: http.Header{"X-Gitlab-Token": {"guess"}, "X-Gitlab-Event": {"Push Hook"}}, body: pushBody},
	},
	"bitbucket": {
		good:   call{header: http.Header{"X-Hub-Signature": {"sha256=" + mac(sha256.New, pushBody)}, "X-Event-Key": {"repo:refs_changed"}}, body: pushBody},
		forged: call{header: http.Header{"X-Hub-Signature": {"sha256=" + mac(sha1.New, pushBody)}, "X-Event-Key": {"repo:refs_changed"}}, body: pushBody},
	},
	"harbor": {
		good:   call{header: http.Header{"Authorization": {hookToken}}, body: harborBody},
		forged: call{header: http.Header{"Authorization": {"Basic " + hookToken}}, body: harborBody},
	},
	"dockerhub": {good: call{body: dockerBody}},
	"quay":      {good: call{body: quayBody}},
	"nexus": {
		good:   call{header: http.Header{"X-Nexus-Webhook-Signature": {mac(sha1.New, nexusBody)}}, body: nexusBody},
		forged: call{header: http.Header{"X-Nexus-Webhook-Signature": {mac(sha256.New, nexusBody)}}, body: nexusBody},
	},
	"cdevents": {good: call{header: http.Header{"Ce-Type": {"dev.cdevents.artifact.published.0.1.1"}}, body: cdeventBody}},
	"acr":      {good: call{body: acrBody}},
}

// receiverFixture creates GitRepositories app (team=web), web-2 (team=web) and api (team=api),
// a Secret with the token and a Receiver of typ naming resources, and waits for its path.
func receiverFixture(t *testing.T, m *harness.Manager, ns, typ string, edit func(*notificationv1.ReceiverSpec)) *notificationv1.Receiver {
	t.Helper()
	m.Create(t, gitRepository(ns, "app", "https://example.com/app.git", map[string]string{"team": "web"}))
	m.Create(t, gitRepository(ns, "web-2", "https://example.com/web.git", map[string]string{"team": "web"}))
	m.Create(t, gitRepository(ns, "api", "https://example.com/api.git", map[string]string{"team": "api"}))
	m.Secret(t, ns, "hook-token", map[string]string{"token": hookToken})
	r := &notificationv1.Receiver{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hook"},
		Spec: notificationv1.ReceiverSpec{
			Type:      typ,
			Resources: []src{{Kind: "GitRepository", Name: "app"}},
			SecretRef: meta.LocalObjectReference{Name: "hook-token"},
		},
	}
	if edit != nil {
		edit(&r.Spec)
	}
	m.Create(t, r)
	harness.Eventually(t, 30*time.Second, func() error {
		if err := env.ObjectIn(r, meta.ReadyCondition, "True", "", "")(); err != nil {
			return err
		}
		if r.Status.WebhookPath == "" {
			return errf("no webhook path yet")
		}
		// The server finds Receivers through the manager's cache.
		cached := &notificationv1.Receiver{}
		if err := m.Client.Get(context.Background(), keyOf(r), cached); err != nil || cached.Status.WebhookPath != r.Status.WebhookPath {
			return errf("the cache has not seen the path yet")
		}
		return nil
	})
	return r
}

// annotated returns the names of the GitRepositories in ns that carry the reconcile request.
func annotated(t *testing.T, namespaces ...string) []string {
	t.Helper()
	var names []string
	for _, ns := range namespaces {
		list := &sourcev1.GitRepositoryList{}
		if err := env.Client.List(context.Background(), list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		for _, r := range list.Items {
			if v, ok := meta.ReconcileAnnotationValue(r.Annotations); ok && v != "" {
				names = append(names, r.Name)
			}
		}
	}
	return names
}

func send(t *testing.T, url string, c call) (int, string) {
	t.Helper()
	return harness.Post(t, url, c.header, c.body)
}

// TestEveryReceiverType checks that each type accepts its sender's correct request and
// annotates exactly the named object, and that a forged or unsigned request is refused with
// 401 and annotates nothing.
func TestEveryReceiverType(t *testing.T) {
	m := manager(t)
	url := m.StartReceiverServer(t, server.ReceiverServerOptions{})
	for typ, s := range senders {
		t.Run(typ, func(t *testing.T) {
			ns := env.Namespace(t)
			r := receiverFixture(t, m, ns, typ, nil)
			hook := url + r.Status.WebhookPath
			if s.forged.body != nil {
				if code, body := send(t, hook, s.forged); code != http.StatusUnauthorized {
					t.Fatalf("forged request: %d %s", code, body)
				}
				unsigned := call{body: s.forged.body}
				if code, body := send(t, hook, unsigned); code != http.StatusUnauthorized {
					t.Fatalf("unsigned request: %d %s", code, body)
				}
				if got := annotated(t, ns); len(got) != 0 {
					t.Fatalf("a refused request annotated %v", got)
				}
			}
			code, body := send(t, hook, s.good)
			if code != http.StatusOK || body != "1 objects asked to reconcile\n" {
				t.Fatalf("correct request: %d %q", code, body)
			}
			if got := annotated(t, ns); strings.Join(got, ",") != "app" {
				t.Fatalf("annotated %v, want [app]", got)
			}
		})
	}
	if strings.Contains(m.Logs.String(), hookToken) {
		t.Fatal("the logs show the token")
	}
}

func TestReceiverSelectsByLabelsFilterAndNamespace(t *testing.T) {
	m := manager(t)
	url := m.StartReceiverServer(t, server.ReceiverServerOptions{CrossNamespace: true})
	ns := env.Namespace(t)
	other := env.Namespace(t)
	m.Create(t, gitRepository(other, "app", "https://example.com/app.git", map[string]string{"team": "web"}))
	r := receiverFixture(t, m, ns, "generic", func(s *notificationv1.ReceiverSpec) {
		s.Resources = []src{
			{Kind: "GitRepository", Name: "*", MatchLabels: map[string]string{"team": "web"}},
			{Kind: "GitRepository", Name: "app", Namespace: other},
		}
		s.ResourceFilter = `res.metadata.name != req.skip`
	})
	code, body := send(t, url+r.Status.WebhookPath, call{body: []byte(`{"skip":"web-2"}`)})
	if code != http.StatusOK || body != "2 objects asked to reconcile\n" {
		t.Fatalf("%d %q", code, body)
	}
	if got := strings.Join(annotated(t, ns, other), ","); got != "app,app" {
		t.Fatalf("annotated %s, want app in both namespaces", got)
	}

	// Without cross-namespace references, the other namespace is refused and named.
	refusing := m.StartReceiverServer(t, server.ReceiverServerOptions{})
	code, body = send(t, refusing+r.Status.WebhookPath, call{body: []byte(`{"skip":"none"}`)})
	if code != http.StatusInternalServerError || !strings.Contains(body, "spec.resources[1]: namespace '"+other+"' is another namespace") {
		t.Fatalf("%d %q", code, body)
	}
}

func TestHostileRequestsAnnotateNothing(t *testing.T) {
	m := manager(t)
	url := m.StartReceiverServer(t, server.ReceiverServerOptions{MaxBodyBytes: 1 << 20})
	ns := env.Namespace(t)
	r := receiverFixture(t, m, ns, "github", nil)
	hook := url + r.Status.WebhookPath
	good := senders["github"].good

	t.Run("malformed JSON, correctly signed", func(t *testing.T) {
		body := []byte(`{"ref": `)
		c := call{header: http.Header{"X-Hub-Signature-256": {"sha256=" + mac(sha256.New, body)}, "X-Github-Event": {"push"}}, body: body}
		if code, msg := send(t, hook, c); code != http.StatusBadRequest {
			t.Fatalf("%d %s", code, msg)
		}
	})
	t.Run("replay to an unknown path", func(t *testing.T) {
		if code, _ := send(t, url+"/hook/"+strings.Repeat("0", 64), good); code != http.StatusNotFound {
			t.Fatalf("%d", code)
		}
		if code, _ := send(t, url+"/hook/", good); code != http.StatusNotFound {
			t.Fatalf("%d", code)
		}
	})
	t.Run("a ping", func(t *testing.T) {
		c := call{header: http.Header{"X-Hub-Signature-256": good.header["X-Hub-Signature-256"], "X-Github-Event": {"ping"}}, body: good.body}
		if code, msg := send(t, hook, c); code != http.StatusOK || msg != "ignored: ping\n" {
			t.Fatalf("%d %q", code, msg)
		}
	})
	t.Run("a declared 1 GiB body", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, hook, io.LimitReader(zeros{}, 1<<30))
		req.ContentLength = 1 << 30
		req.Header = good.header.Clone()
		resp, err := harness.HTTPClient.Do(req)
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("%d", resp.StatusCode)
		}
	})
	t.Run("a streamed 1 GiB body", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, hook, io.NopCloser(io.LimitReader(zeros{}, 1<<30)))
		req.ContentLength = -1 // chunked: the server learns the size only by reading
		req.Header = good.header.Clone()
		start := time.Now()
		resp, err := harness.HTTPClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("%d", resp.StatusCode)
			}
		}
		// Either way the server stopped reading early: 1 GiB over loopback takes far longer.
		if elapsed := time.Since(start); elapsed > 10*time.Second {
			t.Fatalf("took %s", elapsed)
		}
	})
	t.Run("a gzip bomb", func(t *testing.T) {
		var bomb bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
		_, _ = io.Copy(zw, io.LimitReader(zeros{}, 256<<20))
		_ = zw.Close()
		sig := "sha256=" + mac(sha256.New, bomb.Bytes())
		for _, h := range []http.Header{
			{"X-Hub-Signature-256": {sig}, "X-Github-Event": {"push"}, "Content-Encoding": {"gzip"}},
			{"X-Hub-Signature-256": {sig}, "X-Github-Event": {"push"}},
		} {
			if code, msg := send(t, hook, call{header: h, body: bomb.Bytes()}); code != http.StatusUnsupportedMediaType {
				t.Fatalf("%d %s", code, msg)
			}
		}
	})
	t.Run("not a POST", func(t *testing.T) {
		resp, err := harness.HTTPClient.Get(hook)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("%d", resp.StatusCode)
		}
	})
	if got := annotated(t, ns); len(got) != 0 {
		t.Fatalf("hostile requests annotated %v", got)
	}
	// And the Receiver still works.
	if code, _ := send(t, hook, good); code != http.StatusOK {
		t.Fatalf("%d", code)
	}
}

// TestAFloodIsTurnedAway holds the server's request slots with slow senders and checks that the
// next request is answered 503 at once instead of queuing, and that the rate limit answers 429.
func TestAFloodIsTurnedAway(t *testing.T) {
	m := manager(t)
	ns := env.Namespace(t)
	url := m.StartReceiverServer(t, server.ReceiverServerOptions{MaxConcurrent: 2, RateLimit: 5})
	r := receiverFixture(t, m, ns, "generic", nil)
	hook := url + r.Status.WebhookPath

	release := make(chan struct{})
	var releaseOnce sync.Once
	releaseSenders := func() { releaseOnce.Do(func() { close(release) }) }
	// Should the test stop early, the senders still end, before the server stops.
	t.Cleanup(releaseSenders)
	done := make(chan struct{}, 2)
	for range 2 {
		go func() {
			pr, pw := io.Pipe()
			go func() {
				_, _ = pw.Write([]byte("{"))
				<-release
				pw.Close()
			}()
			req, _ := http.NewRequest(http.MethodPost, hook, pr)
			if resp, err := harness.HTTPClient.Do(req); err == nil {
				resp.Body.Close()
			}
			done <- struct{}{}
		}()
	}
	// Give both senders time to reach the handler; nothing else calls meanwhile.
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	code, _ := send(t, hook, call{body: []byte("{}")})
	if code != http.StatusServiceUnavailable {
		t.Fatalf("answered %d while both slots are held, want 503", code)
	}
	if waited := time.Since(start); waited > 2*time.Second {
		t.Fatalf("the 503 took %s: the request queued", waited)
	}
	releaseSenders()
	for range 2 {
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("a slow sender got no answer within 30s of sending the rest of its body")
		}
	}
	codes := map[int]int{}
	for range 20 {
		c, _ := send(t, hook, call{body: []byte("{}")})
		codes[c]++
	}
	if codes[http.StatusTooManyRequests] == 0 {
		t.Fatalf("answers %v: want some 429 past the rate limit", codes)
	}
}

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
