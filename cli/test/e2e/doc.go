// Package e2e tests Weir end to end: the four controllers as processes on a local control
// plane started by `weir local up` (package local), with the demo's Git server, Helm
// repository, notification webhook and Receiver, driven as a user would: git pushes, signed
// webhooks, SIGKILLed controllers and the weir CLI.
package e2e
