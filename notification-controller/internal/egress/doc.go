// Package egress decides which addresses notification-controller may connect to on behalf of
// user data (Provider addresses, their proxies, the redirects they answer with), and enforces
// the decision where it cannot be bypassed: when dialling, after name resolution. A name that
// resolves to a refused address is refused like the literal address, and every redirect hop is
// dialled through the same check.
//
// Link-local and cloud-metadata addresses, unspecified, multicast and broadcast addresses are
// always refused. Cluster-internal addresses (loopback, private, shared and unique-local ranges,
// plus any the operator names) are refused unless the Policy allows them. Refusals happen before
// any connection is attempted.
//
// CheckRedirect keeps credentials on the origin they were given for: a redirect to another
// scheme, host or port is followed without the request's credential-bearing headers.
package egress
