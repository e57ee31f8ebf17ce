package receiver

import (
	"context"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // Nexus signs with HMAC-SHA1.
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"hash"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const token = "receiver-token-123"

func sign(h func() hash.Hash, key string, body []byte) string {
	m := hmac.New(h, []byte(key))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func TestVerify(t *testing.T) {
	push := []byte(`{"ref":"refs/heads/main"}`)
	harbor := []byte(`{"type":"PUSH_ARTIFACT","event_data":{"resources":[]}}`)
	docker := []byte(`{"push_data":{"tag":"v1"},"repository":{"repo_name":"org/app"}}`)
	quay := []byte(`{"docker_url":"quay.io/org/app","updated_tags":["v1"]}`)
	nexus := []byte(`{"action":"CREATED","repositoryName":"r"}`)
	cdevent := []byte(`{"context":{"type":"dev.cdevents.artifact.published.0.1.1","id":"1"},"subject":{"id":"pkg:oci/app"}}`)
	structured := []byte(`{"specversion":"1.0","type":"dev.cdevents.artifact.published.0.1.1","data":{"context":{"type":"dev.cdevents.artifact.published.0.1.1"}}}`)
	form := []byte("payload=" + url.QueryEscape(string(push)))

	cases := []struct {
		name    string
		typ     string
		events  []string
		header  http.Header
		body    []byte
		status  int    // 0: accepted
		ignored string // substring of Result.Ignored
	}{
		{name: "generic takes anything", typ: "generic", body: []byte("not json")},
		{name: "generic-hmac sha256", typ: "generic-hmac", header: hdr("X-Signature", "sha256="+sign(sha256.New, token, push)), body: push},
		{name: "generic-hmac sha512", typ: "generic-hmac", header: hdr("X-Signature", "sha512="+sign(sha512.New, token, push)), body: push},
		{name: "generic-hmac sha1", typ: "generic-hmac", header: hdr("X-Signature", "sha1="+sign(sha1.New, token, push)), body: push},
		{name: "generic-hmac wrong key", typ: "generic-hmac", header: hdr("X-Signature", "sha256="+sign(sha256.New, "other", push)), body: push, status: 401},
		{name: "generic-hmac missing", typ: "generic-hmac", body: push, status: 401},
		{name: "generic-hmac md5", typ: "generic-hmac", header: hdr("X-Signature", "md5=00"), body: push, status: 401},
		{name: "github push", typ: "github", events: []string{"push"},
			header: hdr("X-Hub-Signature-256", "sha256="+sign(sha256.New, token, push), "X-GitHub-Event", "push"), body: push},
		{name: "github form body", typ: "github", header: hdr("X-Hub-Signature-256", "sha256="+sign(sha256.New, token, form),
			"X-GitHub-Event", "push", "Content-Type", "application/x-www-form-urlencoded"), body: form},
		{name: "github ping", typ: "github", events: []string{"push"},
			header: hdr("X-Hub-Signature-256", "sha256="+sign(sha256.New, token, push), "X-GitHub-Event", "ping"), body: push, ignored: "ping"},
		{name: "github filtered event", typ: "github", events: []string{"push"},
			header: hdr("X-Hub-Signature-256", "sha256="+sign(sha256.New, token, push), "X-GitHub-Event", "issues"), body: push, ignored: `"issues" is not in spec.events`},
		{name: "github sha1 only", typ: "github", header: hdr("X-Hub-Signature-256", "sha1="+sign(sha1.New, token, push)), body: push, status: 401},
		{name: "github tampered body", typ: "github", header: hdr("X-Hub-Signature-256", "sha256="+sign(sha256.New, token, push)),
			body: []byte(`{"ref":"refs/heads/evil"}`), status: 401},
		{name: "github bad hex", typ: "github", header: hdr("X-Hub-Signature-256", "sha256=zz"), body: push, status: 401},
		{name: "github malformed json", typ: "github", header: hdr("X-Hub-Signature-256", "sha256="+sign(sha256.New, token, []byte("{"))),
			body: []byte("{"), status: 400},
		{name: "gitlab", typ: "gitlab", events: []string{"Push Hook"}, header: hdr("X-Gitlab-Token", token, "X-Gitlab-Event", "Push Hook"), body: push},
		{name: "gitlab wrong token", typ: "gitlab", header: hdr("X-Gitlab-Token", token+"x"), body: push, status: 401},
		{name: "gitlab filtered", typ: "gitlab", events: []string{"Push Hook"}, header: hdr("X-Gitlab-Token", token, "X-Gitlab-Event", "Tag Push Hook"),
			body: push, ignored: "not in spec.events"},
		{name: "bitbucket server", typ: "bitbucket", header: hdr("X-Hub-Signature", "sha256="+sign(sha256.New, token, push), "X-Event-Key", "repo:refs_changed"), body: push},
		{name: "bitbucket ping", typ: "bitbucket", header: hdr("X-Hub-Signature", "sha256="+sign(sha256.New, token, push), "X-Event-Key", "diagnostics:ping"),
			body: push, ignored: "ping"},
		{name: "bitbucket unsigned", typ: "bitbucket", header: hdr("X-Event-Key", "repo:refs_changed"), body: push, status: 401},
		{name: "harbor", typ: "harbor", header: hdr("Authorization", token), body: harbor},
		{name: "harbor wrong auth", typ: "harbor", header: hdr("Authorization", "Bearer nope"), body: harbor, status: 401},
		{name: "harbor wrong shape", typ: "harbor", header: hdr("Authorization", token), body: push, status: 400},
		{name: "dockerhub", typ: "dockerhub", body: docker},
		{name: "dockerhub wrong shape", typ: "dockerhub", body: quay, status: 400},
		{name: "quay", typ: "quay", body: quay},
		{name: "nexus", typ: "nexus", header: hdr("X-Nexus-Webhook-Signature", sign(sha1.New, token, nexus)), body: nexus},
		{name: "nexus wrong signature", typ: "nexus", header: hdr("X-Nexus-Webhook-Signature", sign(sha1.New, "x", nexus)), body: nexus, status: 401},
		{name: "cdevents binary", typ: "cdevents", events: []string{"dev.cdevents.artifact.published.0.1.1"},
			header: hdr("Ce-Type", "dev.cdevents.artifact.published.0.1.1"), body: cdevent},
		{name: "cdevents structured", typ: "cdevents", body: structured},
		{name: "cdevents filtered", typ: "cdevents", events: []string{"dev.cdevents.pipelinerun.finished.0.1.1"},
			header: hdr("Ce-Type", "dev.cdevents.artifact.published.0.1.1"), body: cdevent, ignored: "not in spec.events"},
		{name: "cdevents not a cdevent", typ: "cdevents", header: hdr("Ce-Type", "com.example.x"), body: cdevent, status: 400},
		{name: "cdevents type mismatch", typ: "cdevents", header: hdr("Ce-Type", "dev.cdevents.x"), body: cdevent, status: 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.header
			if h == nil {
				h = http.Header{}
			}
			res, err := Verify(tc.typ, []byte(token), tc.events, Request{Header: h, Body: tc.body})
			if tc.status != 0 {
				var e *Error
				if !errors.As(err, &e) || e.Status != tc.status {
					t.Fatalf("got %v, want a %d", err, tc.status)
				}
				if strings.Contains(e.Msg, token) {
					t.Fatalf("the error leaks the token: %s", e.Msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if tc.ignored == "" && res.Ignored != "" || !strings.Contains(res.Ignored, tc.ignored) {
				t.Fatalf("Ignored = %q, want %q", res.Ignored, tc.ignored)
			}
		})
	}
}

func TestFilter(t *testing.T) {
	if _, err := CompileFilter("res.metadata.name"); err == nil || !strings.Contains(err.Error(), "boolean") {
		t.Fatalf("a non-boolean filter: %v", err)
	}
	if _, err := CompileFilter("res.metadata.name =="); err == nil || !strings.Contains(err.Error(), "does not compile") {
		t.Fatalf("a broken filter: %v", err)
	}
	f, err := CompileFilter(`req.tag.startsWith(res.metadata.name) && res.metadata.labels.tier == "web"`)
	if err != nil {
		t.Fatal(err)
	}
	res := map[string]any{"metadata": map[string]any{"name": "app", "labels": map[string]any{"tier": "web"}}}
	if ok, err := f.Match(context.Background(), res, map[string]any{"tag": "app-v1"}); !ok || err != nil {
		t.Fatalf("got %v, %v", ok, err)
	}
	if ok, err := f.Match(context.Background(), res, map[string]any{"tag": "other"}); ok || err != nil {
		t.Fatalf("got %v, %v", ok, err)
	}
	if _, err := f.Match(context.Background(), res, map[string]any{}); err == nil {
		t.Fatalf("a missing field must be an error, not a match")
	}
}
