// Package controller holds the reconcilers of Provider, Alert and Receiver. They check what each
// object references (Secrets, the Provider, expressions) and report it in status: Ready with a
// specific reason, and a Receiver's webhook path. They never deliver or receive anything: the
// servers in internal/server do, reading the same objects.
package controller
