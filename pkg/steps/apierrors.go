package steps

import (
	"context"
	"errors"
	"net"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// APIUnavailable reports whether err, however deeply wrapped, says the API server could not
// serve a request for now: it shed load (429), failed (5xx), timed out (504 or the client's
// deadline) or could not be reached. Retrying later may succeed with no change from the user,
// so such an error is transient even where the same step's other errors count as failures.
func APIUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if apierrors.IsTooManyRequests(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) ||
		apierrors.IsServiceUnavailable(err) || apierrors.IsInternalError(err) || apierrors.IsUnexpectedServerError(err) {
		return true
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) && status.Status().Code >= 500 {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	// A 5xx the API machinery turned into text on the way (Helm's "could not get server
	// version from Kubernetes: an error on the server ("unknown") has prevented the request
	// from succeeding"): the generic server-error message is all that is left of it.
	return strings.Contains(err.Error(), "has prevented the request from succeeding")
}
