package receiver

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// parseGCR reads a Google Artifact Registry / Container Registry notification delivered by a
// Pub/Sub push subscription: {"message": {"data": <base64 JSON>, ...}, "subscription": ...},
// the data being {"action": "INSERT", "digest": ..., "tag": ...}. Only INSERT (an image
// pushed or tagged) asks for a reconcile; DELETE is ignored. The payload resourceFilter sees
// as `req` is the decoded notification.
func parseGCR(body []byte) (Result, error) {
	var push struct {
		Message *struct {
			Data string `json:"data"`
		} `json:"message"`
		Subscription string `json:"subscription"`
	}
	if err := json.Unmarshal(body, &push); err != nil || push.Message == nil {
		return Result{}, badRequest("not a Pub/Sub push: the body has no \"message\"")
	}
	data, err := base64.StdEncoding.DecodeString(push.Message.Data)
	if err != nil {
		return Result{}, badRequest("not a Pub/Sub push: message.data is not base64")
	}
	n, err := parseObject(data)
	if err != nil {
		return Result{}, badRequest("not a gcr notification: message.data is not a JSON object")
	}
	action, _ := n["action"].(string)
	if action == "" {
		return Result{}, badRequest("not a gcr notification: message.data has no \"action\"")
	}
	if action != "INSERT" {
		return Result{Ignored: fmt.Sprintf("action %q is not an image push", action), Payload: n}, nil
	}
	return Result{Payload: n}, nil
}
