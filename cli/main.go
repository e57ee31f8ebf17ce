// Command weir operates Weir: it shows and drives the GitOps objects in any cluster reachable
// through a kubeconfig, and runs Weir on an embedded local control plane (`weir local up`).
package main

import (
	"os"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"weir.dev/cli/internal/cmd"
)

func main() {
	// The CLI reports through its own output; controller-runtime's log (envtest in `weir
	// local up`) would otherwise print a stack trace when it is still unset after 30 seconds.
	ctrllog.SetLogger(logr.Discard())
	os.Exit(cmd.Execute(os.Args[1:], os.Stdout, os.Stderr))
}
