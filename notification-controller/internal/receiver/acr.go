package receiver

import "fmt"

// parseACR reads an Azure Container Registry webhook: {"action": "push", "target":
// {"repository": ..., "tag": ..., "digest": ...}, "request": {...}}. push and chart_push ask
// for a reconcile; ping (the portal's test) and deletions are ignored.
func parseACR(body []byte) (Result, error) {
	payload, err := parseObject(body)
	if err != nil {
		return Result{}, err
	}
	action, _ := payload["action"].(string)
	switch action {
	case "push", "chart_push":
		target, _ := payload["target"].(map[string]any)
		if repo, _ := target["repository"].(string); repo == "" {
			return Result{}, badRequest("not an acr webhook: %s without target.repository", action)
		}
		return Result{Payload: payload}, nil
	case "ping":
		return Result{Ignored: "ping", Payload: payload}, nil
	case "":
		return Result{}, badRequest("not an acr webhook: the payload has no \"action\"")
	}
	return Result{Ignored: fmt.Sprintf("action %q is not a push", action), Payload: payload}, nil
}
