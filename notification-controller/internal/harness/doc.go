// Package harness runs notification-controller's reconcilers and servers against the test
// control plane of weir.dev/pkg/testenv, for the tests of the controller and server packages.
// It also holds the builders and waits those tests share. Only tests import it.
package harness
