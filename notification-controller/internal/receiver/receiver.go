package receiver

import (
	"crypto/sha1" //nolint:gosec // Nexus signs with HMAC-SHA1; generic-hmac accepts it for Flux compatibility.
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	notificationv1 "weir.dev/api/notification/v1"
)

// Headers the Receiver types read.
const (
	GenericSignatureHeader   = "X-Signature"
	GitHubSignatureHeader    = "X-Hub-Signature-256"
	GitHubEventHeader        = "X-GitHub-Event"
	GitLabTokenHeader        = "X-Gitlab-Token"
	GitLabEventHeader        = "X-Gitlab-Event"
	BitbucketSignatureHeader = "X-Hub-Signature"
	BitbucketEventHeader     = "X-Event-Key"
	NexusSignatureHeader     = "X-Nexus-Webhook-Signature"
	CloudEventTypeHeader     = "Ce-Type"
)

// Error is a rejected request: Status is the HTTP status to answer.
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

func unauthorized(format string, args ...any) error {
	return &Error{Status: http.StatusUnauthorized, Msg: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) error {
	return &Error{Status: http.StatusBadRequest, Msg: fmt.Sprintf(format, args...)}
}

// Request is an incoming call as a verifier sees it.
type Request struct {
	Header http.Header
	// Body is the raw body, read under the server's size limit.
	Body []byte
	// IDTokenVerified is set by the caller once IDTokens.Verify accepted the request's bearer
	// token; types that UsesOIDC refuse requests without it.
	IDTokenVerified bool
}

// Result is an authenticated request.
type Result struct {
	// Ignored, when not empty, says why the request needs no reconcile (a ping, an event type
	// not in spec.events); the caller answers 200 and annotates nothing.
	Ignored string
	// Payload is the body as a JSON object, for resourceFilter's `req`; empty when the body is
	// not a JSON object.
	Payload map[string]any
}

// Verify authenticates req for a Receiver of type typ, with its token and spec.events.
func Verify(typ string, token []byte, events []string, req Request) (Result, error) {
	switch typ {
	case notificationv1.GenericReceiver:
		return Result{Payload: object(req.Body)}, nil
	case notificationv1.GenericHMACReceiver:
		if err := verifyPrefixedHMAC(req.Header.Get(GenericSignatureHeader), GenericSignatureHeader, token, req.Body, true); err != nil {
			return Result{}, err
		}
		return Result{Payload: object(req.Body)}, nil
	case notificationv1.GitHubReceiver:
		return verifyGitHub(token, events, req)
	case notificationv1.GitLabReceiver:
		if got := req.Header.Get(GitLabTokenHeader); got == "" || subtle.ConstantTimeCompare([]byte(got), token) != 1 {
			return Result{}, unauthorized("missing or invalid %s", GitLabTokenHeader)
		}
		return jsonEvent(req.Body, req.Header.Get(GitLabEventHeader), events, "")
	case notificationv1.BitbucketReceiver:
		if err := verifyPrefixedHMAC(req.Header.Get(BitbucketSignatureHeader), BitbucketSignatureHeader, token, req.Body, false); err != nil {
			return Result{}, err
		}
		return jsonEvent(req.Body, req.Header.Get(BitbucketEventHeader), events, "diagnostics:ping")
	case notificationv1.HarborReceiver:
		if got := req.Header.Get("Authorization"); got == "" || subtle.ConstantTimeCompare([]byte(got), token) != 1 {
			return Result{}, unauthorized("missing or invalid Authorization header")
		}
		return requireFields(req.Body, "harbor", "type", "event_data")
	case notificationv1.DockerHubReceiver:
		return requireFields(req.Body, "dockerhub", "push_data", "repository")
	case notificationv1.QuayReceiver:
		return requireFields(req.Body, "quay", "docker_url", "updated_tags")
	case notificationv1.NexusReceiver:
		if err := verifyHexHMAC(req.Header.Get(NexusSignatureHeader), NexusSignatureHeader, sha1.New, token, req.Body); err != nil {
			return Result{}, err
		}
		return requireFields(req.Body, "nexus", "action")
	case notificationv1.CDEventsReceiver:
		return verifyCDEvent(events, req)
	case notificationv1.GenericOIDCReceiver:
		if !req.IDTokenVerified {
			return Result{}, unauthorized("the ID token was not verified")
		}
		return Result{Payload: object(req.Body)}, nil
	case notificationv1.GCRReceiver:
		if !req.IDTokenVerified {
			return Result{}, unauthorized("the ID token was not verified")
		}
		return parseGCR(req.Body)
	case notificationv1.ACRReceiver:
		return parseACR(req.Body)
	}
	return Result{}, badRequest("unsupported receiver type %q", typ)
}

// jsonEvent checks body is a JSON object and filters on the sender's event type; ping is the
// type that only checks the hook works.
func jsonEvent(body []byte, eventType string, events []string, ping string) (Result, error) {
	payload, err := parseObject(body)
	if err != nil {
		return Result{}, err
	}
	if ping != "" && eventType == ping {
		return Result{Ignored: "ping", Payload: payload}, nil
	}
	if len(events) > 0 && !slices.Contains(events, eventType) {
		return Result{Ignored: fmt.Sprintf("event type %q is not in spec.events", eventType), Payload: payload}, nil
	}
	return Result{Payload: payload}, nil
}

// requireFields checks body is a JSON object with the given top-level fields, the shape of the
// sender's webhook.
func requireFields(body []byte, sender string, fields ...string) (Result, error) {
	payload, err := parseObject(body)
	if err != nil {
		return Result{}, err
	}
	for _, f := range fields {
		if _, ok := payload[f]; !ok {
			return Result{}, badRequest("not a %s webhook: the payload has no %q", sender, f)
		}
	}
	return Result{Payload: payload}, nil
}

// parseObject parses body as one JSON object.
func parseObject(body []byte) (map[string]any, error) {
	var payload map[string]any
	if err := json.Unmarshal(body, &payload); err != nil || payload == nil {
		return nil, badRequest("the body is not a JSON object")
	}
	return payload, nil
}

// object returns body as a JSON object, or an empty one.
func object(body []byte) map[string]any {
	var payload map[string]any
	if json.Unmarshal(body, &payload) != nil || payload == nil {
		return map[string]any{}
	}
	return payload
}
