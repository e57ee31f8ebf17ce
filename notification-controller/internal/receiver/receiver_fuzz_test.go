package receiver

import (
	"crypto/sha1" //nolint:gosec // Nexus and generic-hmac sign with HMAC-SHA1.
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"net/http"
	"strings"
	"testing"

	notificationv1 "weir.dev/api/notification/v1"
)

// receiverTypes are every Receiver type, indexed by the fuzzer's first argument.
var receiverTypes = []string{
	notificationv1.GenericReceiver, notificationv1.GenericHMACReceiver, notificationv1.GitHubReceiver,
	notificationv1.GitLabReceiver, notificationv1.BitbucketReceiver, notificationv1.HarborReceiver,
	notificationv1.DockerHubReceiver, notificationv1.QuayReceiver, notificationv1.NexusReceiver,
	notificationv1.CDEventsReceiver,
}

// FuzzVerify sends every Receiver type arbitrary headers and bodies, signed correctly when
// sign is set and as the fuzzer wrote them otherwise. A type that authenticates never accepts
// a request whose signature or token is not the one the Secret's token gives (checked against
// signatures computed here, independently of the verifier), always accepts a correctly signed
// one, never rejects as unauthorized what carries the right credential, and never quotes the
// token in an error.
func FuzzVerify(f *testing.F) {
	push := `{"ref":"refs/heads/main"}`
	for i, body := range []string{
		push, push, push, push, push,
		`{"type":"PUSH_ARTIFACT","event_data":{"resources":[]}}`,
		`{"push_data":{"tag":"v1"},"repository":{"repo_name":"org/app"}}`,
		`{"docker_url":"quay.io/org/app","updated_tags":["v1"]}`,
		`{"action":"CREATED","repositoryName":"r"}`,
		`{"context":{"type":"dev.cdevents.artifact.published.0.1.1"}}`,
	} {
		f.Add(uint8(i), true, "", "push", "application/json", []byte(body))
		f.Add(uint8(i), false, "sha256=00", "push", "application/json", []byte(body))
	}
	f.Add(uint8(1), false, "sha1="+sign(sha1.New, token, []byte(push)), "", "", []byte(push))
	f.Add(uint8(1), false, "md5=abcd", "", "", []byte(push))
	f.Add(uint8(2), true, "", "ping", "application/x-www-form-urlencoded", []byte("payload=%7B%22zen%22%3A1%7D"))
	f.Add(uint8(2), false, "sha256=", "push", "", []byte{})
	f.Add(uint8(3), false, token+" ", "Push Hook", "", []byte(push))
	f.Add(uint8(4), true, "", "diagnostics:ping", "", []byte(`[]`))
	f.Add(uint8(5), false, strings.ToUpper(token), "", "", []byte(`{}`))
	f.Add(uint8(8), false, strings.ToUpper(sign(sha1.New, token, []byte(push))), "", "", []byte(push))
	f.Add(uint8(9), false, "dev.cdevents.x", "", "", []byte(`{"type":"dev.cdevents.x","data":{"context":{"type":"dev.cdevents.x"}}}`))

	f.Fuzz(func(t *testing.T, which uint8, signIt bool, credential, event, contentType string, body []byte) {
		typ := receiverTypes[int(which)%len(receiverTypes)]
		// The header each type reads its credential from, and the credentials that are right.
		var header string
		var valid []string
		switch typ {
		case notificationv1.GenericHMACReceiver:
			header = GenericSignatureHeader
			valid = []string{"sha1=" + sign(sha1.New, token, body), "sha256=" + sign(sha256.New, token, body), "sha512=" + sign(sha512.New, token, body)}
		case notificationv1.GitHubReceiver:
			header, valid = GitHubSignatureHeader, []string{"sha256=" + sign(sha256.New, token, body)}
		case notificationv1.BitbucketReceiver:
			header, valid = BitbucketSignatureHeader, []string{"sha256=" + sign(sha256.New, token, body)}
		case notificationv1.GitLabReceiver:
			header, valid = GitLabTokenHeader, []string{token}
		case notificationv1.HarborReceiver:
			header, valid = "Authorization", []string{token}
		case notificationv1.NexusReceiver:
			header, valid = NexusSignatureHeader, []string{sign(sha1.New, token, body)}
		case notificationv1.CDEventsReceiver:
			header = CloudEventTypeHeader
		}
		if signIt && valid != nil {
			credential = valid[int(which)/len(receiverTypes)%len(valid)]
		}
		h := http.Header{}
		if header != "" {
			h.Set(header, credential)
		}
		for _, eh := range []string{GitHubEventHeader, GitLabEventHeader, BitbucketEventHeader} {
			h.Set(eh, event)
		}
		h.Set("Content-Type", contentType)

		res, err := Verify(typ, []byte(token), nil, Request{Header: h, Body: body})

		// What the verifier saw after http.Header's canonicalisation.
		sent := h.Get(header)
		right := false
		for _, v := range valid {
			// Hex digits may be upper case; the algorithm and tokens may not.
			algo, hexSig, _ := strings.Cut(v, "=")
			gotAlgo, gotHex, _ := strings.Cut(sent, "=")
			if sent == v || (strings.Contains(v, "=") && algo == gotAlgo && strings.EqualFold(hexSig, gotHex)) ||
				(typ == notificationv1.NexusReceiver && strings.EqualFold(sent, v)) {
				right = true
			}
		}
		var rerr *Error
		if err != nil && !errors.As(err, &rerr) {
			t.Fatalf("%s: error is not a *receiver.Error: %v", typ, err)
		}
		// Quoting what the sender sent is no leak, even when the sender sent the token.
		if err != nil && strings.Contains(err.Error(), token) && !requestHas(h, body, token) {
			t.Fatalf("%s: error quotes the token: %v", typ, err)
		}
		switch {
		case valid != nil && err == nil && !right:
			t.Fatalf("%s accepted %s: %q, which is not a valid credential", typ, header, sent)
		case valid != nil && right && err != nil && rerr.Status == http.StatusUnauthorized:
			t.Fatalf("%s rejected the valid %s %q as unauthorized: %v", typ, header, sent, err)
		case err == nil && res.Payload == nil:
			t.Fatalf("%s accepted a request without a payload object", typ)
		}
	})
}

// requestHas reports whether s is in one of h's values or in body.
func requestHas(h http.Header, body []byte, s string) bool {
	for _, vs := range h {
		for _, v := range vs {
			if strings.Contains(v, s) {
				return true
			}
		}
	}
	return strings.Contains(string(body), s)
}
