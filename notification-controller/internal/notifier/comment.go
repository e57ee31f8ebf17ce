package notifier

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// ChangeRequestKey is the event metadata key that names the pull or merge request an event is
// about (its number), e.g. set by an Alert's eventMetadata for a preview environment.
const ChangeRequestKey = "change_request"

// changeRequestRef matches the Git refs of pull and merge requests that a source tracks:
// refs/pull/<n>/head or /merge (GitHub, Gitea) and refs/merge-requests/<n>/head (GitLab).
var changeRequestRef = regexp.MustCompile(`(?:^|/)refs/(?:pull|merge-requests)/([0-9]+)/(?:head|merge)(?:@|$)`)

// changeRequestOf returns the number of the pull or merge request an event is about: its
// change_request metadata, else the request ref of its revision.
func changeRequestOf(e *Event) (string, bool) {
	if v := strings.TrimPrefix(strings.TrimSpace(e.Metadata[ChangeRequestKey]), "#"); v != "" {
		if n, err := strconv.ParseUint(v, 10, 64); err == nil && n > 0 {
			return v, true
		}
		return "", false
	}
	for _, v := range []string{revisionOf(&e.Event), e.Metadata["originRevision"]} {
		if m := changeRequestRef.FindStringSubmatch(v); m != nil {
			return m[1], true
		}
	}
	return "", false
}

// commentMarker starts every comment, hidden when rendered: it lets the next event about the
// same object find and update the comment instead of adding one.
func commentMarker(e *Event) string { return "<!-- weir: " + objectKey(e) + " -->" }

// commentBody is the comment for an event.
func commentBody(e *Event) string {
	return commentMarker(e) + "\n" + truncate(newMessage(e).markdownText(), 60000)
}

// commentAPI is one forge's calls for the comments of a change request.
type commentAPI struct {
	p      *poster
	header http.Header
	// list, create and update return the URL of each call for request n (update: of comment id).
	list, create func(n string) string
	update       func(n string, id int64) string
	// updateMethod is PATCH (GitHub, Gitea) or PUT (GitLab).
	updateMethod string
}

// upsert updates the comment on request n that starts with the event's marker, or adds one.
// Events without a request number are skipped. Only the first 100 comments are searched: on
// a longer thread a new comment is added.
func (c *commentAPI) upsert(ctx context.Context, e *Event) error {
	n, ok := changeRequestOf(e)
	if !ok {
		return nil
	}
	body := commentBody(e)
	raw, err := c.p.do(ctx, request{method: http.MethodGet, url: c.list(n), header: c.header})
	if err != nil {
		return fmt.Errorf("listing the comments of #%s: %w", n, err)
	}
	var comments []struct {
		ID   int64  `json:"id"`
		Body string `json:"body"`
	}
	if err := json.Unmarshal(raw, &comments); err != nil {
		return permanentf("listing the comments of #%s: the answer is not a list of comments", n)
	}
	marker := commentMarker(e)
	for _, cm := range comments {
		if strings.HasPrefix(cm.Body, marker) {
			if cm.Body == body {
				return nil
			}
			_, err := c.p.do(ctx, request{method: c.updateMethod, url: c.update(n, cm.ID), body: map[string]string{"body": body}, header: c.header})
			return err
		}
	}
	_, err = c.p.do(ctx, request{url: c.create(n), body: map[string]string{"body": body}, header: c.header})
	return err
}

// prComment keeps a comment per object on pull or merge requests.
type prComment struct{ api commentAPI }

// Post implements Notifier.
func (c *prComment) Post(ctx context.Context, e *Event) error { return c.api.upsert(ctx, e) }

func newGitHubPRComment(c *Config) (*prComment, error) {
	if c.Token == "" {
		return nil, fmt.Errorf("githubpullrequestcomment needs a `token`")
	}
	g, err := newGitHub(c)
	if err != nil {
		return nil, err
	}
	return &prComment{commentAPI{
		p: g.p, header: githubHeader(c.Token), updateMethod: http.MethodPatch,
		list:   func(n string) string { return g.api + "/issues/" + n + "/comments?per_page=100" },
		create: func(n string) string { return g.api + "/issues/" + n + "/comments" },
		update: func(_ string, id int64) string { return g.api + "/issues/comments/" + strconv.FormatInt(id, 10) },
	}}, nil
}

func newGiteaPRComment(c *Config) (*prComment, error) {
	if c.Token == "" {
		return nil, fmt.Errorf("giteapullrequestcomment needs a `token`")
	}
	g, err := newGitea(c)
	if err != nil {
		return nil, err
	}
	return &prComment{commentAPI{
		p: g.p, header: http.Header{"Authorization": {"token " + c.Token}}, updateMethod: http.MethodPatch,
		list:   func(n string) string { return g.api + "/issues/" + n + "/comments?limit=100" },
		create: func(n string) string { return g.api + "/issues/" + n + "/comments" },
		update: func(_ string, id int64) string { return g.api + "/issues/comments/" + strconv.FormatInt(id, 10) },
	}}, nil
}

func newGitLabMRComment(c *Config) (*prComment, error) {
	if c.Token == "" {
		return nil, fmt.Errorf("gitlabmergerequestcomment needs a `token`")
	}
	g, err := newGitLab(c)
	if err != nil {
		return nil, err
	}
	return &prComment{commentAPI{
		p: g.p, header: http.Header{"Private-Token": {c.Token}}, updateMethod: http.MethodPut,
		list:   func(n string) string { return g.api + "/merge_requests/" + n + "/notes?per_page=100&sort=asc" },
		create: func(n string) string { return g.api + "/merge_requests/" + n + "/notes" },
		update: func(n string, id int64) string {
			return g.api + "/merge_requests/" + n + "/notes/" + strconv.FormatInt(id, 10)
		},
	}}, nil
}
