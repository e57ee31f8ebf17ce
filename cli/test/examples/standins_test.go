package examples

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// newLoopbackServer serves h on 127.0.0.1 until t ends and returns its URL.
func newLoopbackServer(t *testing.T, h http.Handler) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + l.Addr().String()
}

// slackMessage is an incoming-webhook message as Slack documents it
// (https://api.slack.com/messaging/webhooks, legacy attachments included): a field Slack does
// not know makes the stand-in refuse the message, as a typo would be lost on Slack.
type slackMessage struct {
	Text        string            `json:"text"`
	Channel     string            `json:"channel"`
	Username    string            `json:"username"`
	IconEmoji   string            `json:"icon_emoji"`
	IconURL     string            `json:"icon_url"`
	Mrkdwn      *bool             `json:"mrkdwn"`
	Blocks      []json.RawMessage `json:"blocks"`
	Attachments []slackAttachment `json:"attachments"`
}

type slackAttachment struct {
	Fallback   string       `json:"fallback"`
	Color      string       `json:"color"`
	Pretext    string       `json:"pretext"`
	AuthorName string       `json:"author_name"`
	AuthorLink string       `json:"author_link"`
	AuthorIcon string       `json:"author_icon"`
	Title      string       `json:"title"`
	TitleLink  string       `json:"title_link"`
	Text       string       `json:"text"`
	Fields     []slackField `json:"fields"`
	ImageURL   string       `json:"image_url"`
	ThumbURL   string       `json:"thumb_url"`
	Footer     string       `json:"footer"`
	FooterIcon string       `json:"footer_icon"`
	Ts         json.Number  `json:"ts"`
	MrkdwnIn   []string     `json:"mrkdwn_in"`
}

type slackField struct {
	Title string `json:"title"`
	Value string `json:"value"`
	Short bool   `json:"short"`
}

var slackColor = regexp.MustCompile(`^(good|warning|danger|#[0-9a-fA-F]{6})$`)

// slackStandIn is a Slack incoming webhook on 127.0.0.1: it answers as Slack does ("ok", or
// 400 with the reason) and keeps the messages it accepted and the reasons it refused others.
type slackStandIn struct {
	url     string
	mu      sync.Mutex
	got     []slackMessage
	refused []string
}

func startSlack(t *testing.T) *slackStandIn {
	t.Helper()
	s := &slackStandIn{}
	s.url = newLoopbackServer(t, s) + "/services/T000/B000/XXXX"
	return s
}

func (s *slackStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m, err := parseSlackMessage(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.refused = append(s.refused, err.Error())
		http.Error(w, "invalid_payload: "+err.Error(), http.StatusBadRequest)
		return
	}
	s.got = append(s.got, m)
	_, _ = io.WriteString(w, "ok")
}

// parseSlackMessage returns the message r posts, or why Slack would not take it.
func parseSlackMessage(r *http.Request) (slackMessage, error) {
	var m slackMessage
	if r.Method != http.MethodPost || r.URL.Path != "/services/T000/B000/XXXX" {
		return m, fmt.Errorf("%s %s: not the webhook", r.Method, r.URL.Path)
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		return m, fmt.Errorf("Content-Type %q, not application/json", r.Header.Get("Content-Type"))
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return m, err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, fmt.Errorf("%v in %s", err, body)
	}
	if m.Text == "" && len(m.Attachments) == 0 && len(m.Blocks) == 0 {
		return m, fmt.Errorf("no text, attachments or blocks: %s", body)
	}
	for _, a := range m.Attachments {
		if a.Fallback == "" && a.Text == "" {
			return m, fmt.Errorf("an attachment without fallback or text: %s", body)
		}
		if a.Color != "" && !slackColor.MatchString(a.Color) {
			return m, fmt.Errorf("attachment color %q", a.Color)
		}
		for _, f := range a.Fields {
			if f.Title == "" && f.Value == "" {
				return m, fmt.Errorf("an empty field: %s", body)
			}
		}
	}
	return m, nil
}

// messages returns the messages accepted so far and the reasons for refusals.
func (s *slackStandIn) messages() ([]slackMessage, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]slackMessage(nil), s.got...), append([]string(nil), s.refused...)
}

// commitStatus is one commit status the GitHub stand-in accepted.
type commitStatus struct {
	Owner, Repo, SHA string
	State            string `json:"state"`
	Context          string `json:"context"`
	Description      string `json:"description"`
	TargetURL        string `json:"target_url"`
}

var commitSHA = regexp.MustCompile(`^[0-9a-f]{40}$`)

// githubStandIn is GitHub's REST API for commit statuses
// (POST /repos/{owner}/{repo}/statuses/{sha}, https://docs.github.com/rest/commits/statuses),
// as a GitHub Enterprise server serves it under /api/v3: it takes only a bearer token and the
// documented body, and keeps what it accepted and the reasons for what it refused.
type githubStandIn struct {
	token   string
	mux     *http.ServeMux
	mu      sync.Mutex
	got     []commitStatus
	refused []string
}

func newGitHub(token string) *githubStandIn {
	g := &githubStandIn{token: token, mux: http.NewServeMux()}
	g.mux.HandleFunc("POST /api/v3/repos/{owner}/{repo}/statuses/{sha}", g.postStatus)
	g.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		g.refuse(w, http.StatusNotFound, r.Method+" "+r.URL.Path+": not a commit status")
	})
	return g
}

func (g *githubStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) { g.mux.ServeHTTP(w, r) }

func (g *githubStandIn) refuse(w http.ResponseWriter, code int, why string) {
	g.mu.Lock()
	g.refused = append(g.refused, why)
	g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": why})
}

func (g *githubStandIn) postStatus(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+g.token {
		g.refuse(w, http.StatusUnauthorized, "Bad credentials")
		return
	}
	if !strings.Contains(r.Header.Get("Accept"), "application/vnd.github") {
		g.refuse(w, http.StatusUnsupportedMediaType, "Accept "+r.Header.Get("Accept"))
		return
	}
	s := commitStatus{Owner: r.PathValue("owner"), Repo: r.PathValue("repo"), SHA: r.PathValue("sha")}
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		g.refuse(w, http.StatusUnprocessableEntity, "body: "+err.Error())
		return
	}
	switch {
	case !commitSHA.MatchString(s.SHA):
		g.refuse(w, http.StatusUnprocessableEntity, "sha "+s.SHA)
		return
	case s.State != "pending" && s.State != "success" && s.State != "failure" && s.State != "error":
		g.refuse(w, http.StatusUnprocessableEntity, "state "+s.State)
		return
	case len(s.Description) > 140:
		g.refuse(w, http.StatusUnprocessableEntity, "description longer than 140 characters")
		return
	}
	g.mu.Lock()
	g.got = append(g.got, s)
	g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{"state": s.State, "context": s.Context})
}

// statuses returns the statuses accepted so far and the reasons for refusals.
func (g *githubStandIn) statuses() ([]commitStatus, []string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]commitStatus(nil), g.got...), append([]string(nil), g.refused...)
}
