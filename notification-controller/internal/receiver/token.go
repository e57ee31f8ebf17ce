package receiver

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/pkg/steps"
)

// TokenKey is the key of a Receiver's Secret that holds its token.
const TokenKey = "token"

// ReadToken returns the token of a Receiver's Secret. Errors name the Secret and key, never
// the value: steps.Stalled with TokenNotFound when either is missing, API errors otherwise.
func ReadToken(ctx context.Context, c client.Reader, rcv *notificationv1.Receiver) (string, error) {
	name := rcv.Spec.SecretRef.Name
	secret := &corev1.Secret{}
	err := c.Get(ctx, client.ObjectKey{Namespace: rcv.Namespace, Name: name}, secret)
	if apierrors.IsNotFound(err) {
		return "", steps.Stalled(notificationv1.TokenNotFoundReason, fmt.Errorf("spec.secretRef: secret '%s' not found", name))
	}
	if err != nil {
		return "", err
	}
	token := string(secret.Data[TokenKey])
	if token == "" {
		return "", steps.Stalled(notificationv1.TokenNotFoundReason, fmt.Errorf("secret '%s' has no '%s' key", name, TokenKey))
	}
	return token, nil
}
