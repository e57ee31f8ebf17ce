package server

import (
	"context"
	"net/http"

	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/notification-controller/internal/receiver"
)

// verify authenticates a request to rcv and parses it. For the types that authenticate with
// an ID token (generic-oidc, gcr) it first reads the issuer and audience from rcv's Secret
// and verifies the bearer token; a Secret without them answers 503, as the Receiver is not
// Ready.
func (s *ReceiverServer) verify(ctx context.Context, rcv *notificationv1.Receiver, token string, header http.Header, body []byte) (receiver.Result, error) {
	req := receiver.Request{Header: header, Body: body}
	if receiver.UsesOIDC(rcv.Spec.Type) {
		settings, err := receiver.ReadOIDCSettings(ctx, s.opts.Client, rcv)
		if err != nil {
			return receiver.Result{}, &receiver.Error{Status: http.StatusServiceUnavailable, Msg: "the receiver is not ready: " + err.Error()}
		}
		if err := s.opts.IDTokens.Verify(ctx, settings, header); err != nil {
			return receiver.Result{}, err
		}
		req.IDTokenVerified = true
	}
	return receiver.Verify(rcv.Spec.Type, []byte(token), rcv.Spec.Events, req)
}
