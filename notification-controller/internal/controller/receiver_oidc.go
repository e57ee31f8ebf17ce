package controller

import (
	"context"

	"weir.dev/notification-controller/internal/receiver"
)

// reconcileIDTokenSettings checks that the Secret of a Receiver authenticating with ID tokens
// (generic-oidc, gcr) says which issuer and audience to accept. Stalls with InvalidSpec naming
// the missing key.
func (r *ReceiverReconciler) reconcileIDTokenSettings(ctx context.Context, s *receiverScope) error {
	if !receiver.UsesOIDC(s.receiver.Spec.Type) {
		return nil
	}
	_, err := receiver.ReadOIDCSettings(ctx, r.Client, s.receiver)
	return err
}
