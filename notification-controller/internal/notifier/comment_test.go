package notifier

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeForge keeps the comments of one change request and records every call.
type fakeForge struct {
	mu       sync.Mutex
	comments []map[string]any
	calls    []string // "METHOD path?query auth"
	authKey  string   // the header that carries the token
}

func newFakeForge(t *testing.T, authKey string, list, create, update string) (*fakeForge, *httptest.Server) {
	f := &fakeForge{authKey: authKey, comments: []map[string]any{{"id": 1, "body": "LGTM, from a human"}}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.calls = append(f.calls, r.Method+" "+r.URL.EscapedPath()+"?"+r.URL.RawQuery+" "+r.Header.Get(authKey))
		var in struct{ Body string }
		_ = json.Unmarshal(body, &in)
		switch {
		case r.Method == http.MethodGet && r.URL.Path == list:
			_ = json.NewEncoder(w).Encode(f.comments)
		case r.Method == http.MethodPost && r.URL.Path == create:
			f.comments = append(f.comments, map[string]any{"id": 100 + len(f.comments), "body": in.Body})
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, "{}")
		case strings.HasPrefix(r.URL.Path, update) && (r.Method == http.MethodPatch || r.Method == http.MethodPut):
			id, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, update))
			for _, c := range f.comments {
				if fmt.Sprint(c["id"]) == strconv.Itoa(id) {
					c["body"] = in.Body
					_, _ = io.WriteString(w, "{}")
					return
				}
			}
			http.NotFound(w, r)
		default:
			http.Error(w, "unexpected call", http.StatusTeapot)
		}
	}))
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeForge) takeCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

func (f *fakeForge) bodies() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b []string
	for _, c := range f.comments {
		b = append(b, c["body"].(string))
	}
	return b
}

// TestPullRequestCommentsKeepOneCommentPerObject: the first event about an object adds a
// comment to the change request, the next ones edit it, an unchanged one sends no edit, other
// people's comments are left alone, and events without a change request are skipped.
func TestPullRequestCommentsKeepOneCommentPerObject(t *testing.T) {
	cases := []struct {
		typ, addr, authKey, auth    string
		list, create, update, query string
		updateMethod                string
	}{
		{typ: "githubpullrequestcomment", addr: "/org/app", authKey: "Authorization", auth: "Bearer " + testToken,
			list: "/api/v3/repos/org/app/issues/7/comments", query: "per_page=100", create: "/api/v3/repos/org/app/issues/7/comments",
			update: "/api/v3/repos/org/app/issues/comments/", updateMethod: http.MethodPatch},
		{typ: "giteapullrequestcomment", addr: "/org/app", authKey: "Authorization", auth: "token " + testToken,
			list: "/api/v1/repos/org/app/issues/7/comments", query: "limit=100", create: "/api/v1/repos/org/app/issues/7/comments",
			update: "/api/v1/repos/org/app/issues/comments/", updateMethod: http.MethodPatch},
		{typ: "gitlabmergerequestcomment", addr: "/group/sub/app", authKey: "Private-Token", auth: testToken,
			list: "/api/v4/projects/group%2Fsub%2Fapp/merge_requests/7/notes", query: "per_page=100&sort=asc",
			create: "/api/v4/projects/group%2Fsub%2Fapp/merge_requests/7/notes",
			update: "/api/v4/projects/group%2Fsub%2Fapp/merge_requests/7/notes/", updateMethod: http.MethodPut},
	}
	for _, tc := range cases {
		t.Run(tc.typ, func(t *testing.T) {
			unescape := func(p string) string { return strings.ReplaceAll(p, "%2F", "/") }
			forge, srv := newFakeForge(t, tc.authKey, unescape(tc.list), unescape(tc.create), unescape(tc.update))
			n, err := New(onLoopback(Config{Type: tc.typ, Address: srv.URL + tc.addr, Token: testToken}))
			if err != nil {
				t.Fatal(err)
			}
			post := func(e *Event) {
				t.Helper()
				if err := n.Post(context.Background(), e); err != nil {
					t.Fatal(err)
				}
			}
			list := http.MethodGet + " " + tc.list + "?" + tc.query + " " + tc.auth
			create := http.MethodPost + " " + tc.create + "? " + tc.auth

			info := testEvent("info")
			info.Metadata[ChangeRequestKey] = "7"
			post(info)
			if got := forge.takeCalls(); strings.Join(got, "\n") != list+"\n"+create {
				t.Fatalf("first event: calls\n%s\nwant\n%s\n%s", strings.Join(got, "\n"), list, create)
			}
			wantInfo := "<!-- weir: kustomization/apps/podinfo -->\n" + newMessage(info).markdownText()
			if b := forge.bodies(); len(b) != 2 || b[0] != "LGTM, from a human" || b[1] != wantInfo {
				t.Fatalf("comments %q", b)
			}

			failed := testEvent("error")
			failed.Metadata = map[string]string{"revision": "refs/pull/7/head@sha1:" + testSHA}
			if tc.typ == "gitlabmergerequestcomment" {
				failed.Metadata["revision"] = "refs/merge-requests/7/head@sha1:" + testSHA
			}
			post(failed)
			update := tc.updateMethod + " " + tc.update + "101? " + tc.auth
			if got := forge.takeCalls(); strings.Join(got, "\n") != list+"\n"+update {
				t.Fatalf("second event: calls\n%s\nwant\n%s\n%s", strings.Join(got, "\n"), list, update)
			}
			b := forge.bodies()
			if len(b) != 2 || !strings.HasPrefix(b[1], "<!-- weir: kustomization/apps/podinfo -->\n❌ **Kustomization apps/podinfo**") ||
				!strings.Contains(b[1], "timeout <5m> & not ready") {
				t.Fatalf("comments after the failure %q", b)
			}

			post(failed) // unchanged: no edit
			if got := forge.takeCalls(); len(got) != 1 || got[0] != list {
				t.Fatalf("an unchanged comment: calls %q", got)
			}

			other := testEvent("info")
			other.InvolvedObject.Name = "redis"
			other.Metadata[ChangeRequestKey] = "#7"
			post(other)
			if got := forge.bodies(); len(got) != 3 || !strings.HasPrefix(got[2], "<!-- weir: kustomization/apps/redis -->") {
				t.Fatalf("another object's comment: %q", got)
			}
			forge.takeCalls()

			post(testEvent("error")) // on a branch, no change request
			if got := forge.takeCalls(); len(got) != 0 {
				t.Fatalf("an event without a change request made calls %q", got)
			}
		})
	}
}

func TestChangeRequestOf(t *testing.T) {
	for meta, want := range map[[2]string]string{
		{"change_request", "12"}:                                    "12",
		{"change_request", "#12"}:                                   "12",
		{"change_request", "twelve"}:                                "",
		{"change_request", "0"}:                                     "",
		{"revision", "refs/pull/34/head@sha1:" + testSHA}:           "34",
		{"revision", "refs/pull/34/merge@sha1:" + testSHA}:          "34",
		{"revision", "refs/merge-requests/56/head@sha1:" + testSHA}: "56",
		{"revision", "main@sha1:" + testSHA}:                        "",
		{"revision", "refs/pull/x/head@sha1:" + testSHA}:            "",
	} {
		e := &Event{}
		e.Metadata = map[string]string{meta[0]: meta[1]}
		got, ok := changeRequestOf(e)
		if got != want || ok != (want != "") {
			t.Errorf("%s=%s: %q, %v; want %q", meta[0], meta[1], got, ok, want)
		}
	}
}
