package receiver

import (
	"fmt"
	"slices"
	"strings"
)

// verifyCDEvent checks a CDEvent in CloudEvents binary mode (the type in Ce-Type, the CDEvent
// as the body) or structured mode (an envelope with `type` and the CDEvent in `data`), and
// filters on the type.
func verifyCDEvent(events []string, req Request) (Result, error) {
	payload, err := parseObject(req.Body)
	if err != nil {
		return Result{}, err
	}
	ceType := req.Header.Get(CloudEventTypeHeader)
	cdevent := payload
	if ceType == "" {
		ceType, _ = payload["type"].(string)
		cdevent, _ = payload["data"].(map[string]any)
	}
	if !strings.HasPrefix(ceType, "dev.cdevents.") {
		return Result{}, badRequest("not a CDEvent: the CloudEvent type %q does not start with dev.cdevents.", ceType)
	}
	context, _ := cdevent["context"].(map[string]any)
	if t, _ := context["type"].(string); t != ceType {
		return Result{}, badRequest("not a CDEvent: context.type %q differs from the CloudEvent type", t)
	}
	if len(events) > 0 && !slices.Contains(events, ceType) {
		return Result{Ignored: fmt.Sprintf("event type %q is not in spec.events", ceType), Payload: payload}, nil
	}
	return Result{Payload: payload}, nil
}
