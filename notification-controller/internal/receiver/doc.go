// Package receiver authenticates and parses incoming webhooks for each Receiver type, and
// compiles a Receiver's resourceFilter, and reads a Receiver's token. Verification is pure: it
// sees headers, a body already read under a size limit, and the token.
//
// Signatures and tokens are compared in constant time. An invalid or missing signature or token
// is an *Error with status 401; a body the type cannot parse, 400.
package receiver
