package steps_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"weir.dev/pkg/steps"
)

func TestAPIUnavailable(t *testing.T) {
	cm := schema.GroupResource{Resource: "configmaps"}
	refused := &url.Error{Op: "Get", URL: "https://127.0.0.1:6443/api", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"a 500 Helm reports as text", errors.New(`could not get server version from Kubernetes: an error on the server ("unknown") has prevented the request from succeeding`), true},
		{"429", apierrors.NewTooManyRequests("slow down", 1), true},
		{"500", apierrors.NewInternalError(errors.New("etcd")), true},
		{"503", apierrors.NewServiceUnavailable("later"), true},
		{"504", apierrors.NewTimeoutError("stalled", 0), true},
		{"server timeout", apierrors.NewServerTimeout(cm, "get", 1), true},
		{"generic 502", apierrors.NewGenericServerResponse(502, "get", cm, "x", "", 0, false), true},
		{"wrapped 429, as Helm wraps it", fmt.Errorf("query: failed to query with labels: %w", apierrors.NewTooManyRequests("slow down", 1)), true},
		{"client deadline", fmt.Errorf("upgrade: %w", context.DeadlineExceeded), true},
		{"connection refused", fmt.Errorf("Kubernetes cluster unreachable: %w", refused), true},
		{"not found", apierrors.NewNotFound(cm, "x"), false},
		{"forbidden", apierrors.NewForbidden(cm, "x", errors.New("no")), false},
		{"invalid", apierrors.NewBadRequest("spec.x: invalid"), false},
		{"conflict", apierrors.NewConflict(cm, "x", errors.New("changed")), false},
		{"template error", errors.New(`parse error at (hello/templates/data.yaml:5): unexpected "}"`), false},
		{"cancelled", context.Canceled, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := steps.APIUnavailable(tc.err); got != tc.want {
				t.Errorf("APIUnavailable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
