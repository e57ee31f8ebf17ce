package receiver

import (
	"net/url"
	"strings"
)

// verifyGitHub checks X-Hub-Signature-256, answers pings, and filters on X-GitHub-Event. A form
// body (content type application/x-www-form-urlencoded) carries the JSON in `payload`.
func verifyGitHub(token []byte, events []string, req Request) (Result, error) {
	sig := req.Header.Get(GitHubSignatureHeader)
	if err := verifyPrefixedHMAC(sig, GitHubSignatureHeader, token, req.Body, false); err != nil {
		return Result{}, err
	}
	body := req.Body
	if strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		form, err := url.ParseQuery(string(req.Body))
		if err != nil {
			return Result{}, badRequest("the form body does not parse")
		}
		body = []byte(form.Get("payload"))
	}
	return jsonEvent(body, req.Header.Get(GitHubEventHeader), events, "ping")
}
