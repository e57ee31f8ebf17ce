package v1

// Provider, Alert and Receiver use only meta's condition types:
//
//   - Ready (positive, always present): a Provider's Secrets exist and hold what its type needs,
//     and its addresses are ones notifications may reach; an Alert's Provider exists and is Ready
//     and its regular expressions compile; a Receiver's Secret holds a token and
//     status.webhookPath is set.
//   - Reconciling and Stalled (negative, present only while true).
//
// Reasons: an Alert whose Provider is missing or not Ready is meta.DependencyNotReadyReason; a
// spec value the schema cannot check (a regular expression, the resourceFilter expression, a
// certificate) is meta.InvalidSpecReason, with Stalled; a missing Secret or key, or an address
// notifications may not reach, is one of the reasons below.

// Reasons used by the notification kinds, beyond meta's.
const (
	// TokenNotFoundReason: the Secret named by spec.secretRef does not exist or has no `token`
	// key, and the kind needs one (a Receiver always; a Provider of a type that authenticates
	// with a token).
	TokenNotFoundReason = "TokenNotFound"

	// SecretNotFoundReason: a Secret named by spec.secretRef, spec.certSecretRef or
	// spec.proxySecretRef does not exist, or lacks a key other than `token` that the type needs.
	SecretNotFoundReason = "SecretNotFound"

	// AddressRefusedReason: a Provider's address or proxy (in its spec or its Secret) is a
	// literal address notification-controller never connects to (link-local, cloud metadata,
	// unspecified, multicast), or a cluster-internal one (loopback, private) while
	// --allow-internal-addresses is off. With Stalled.
	AddressRefusedReason = "AddressRefused"
)
