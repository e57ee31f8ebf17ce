// Command weir operates Weir: it shows and drives the GitOps objects in any cluster reachable
// through a kubeconfig, and runs Weir on an embedded local control plane (`weir local up`).
package main

import (
	"os"

	"weir.dev/cli/internal/cmd"
)

func main() { os.Exit(cmd.Execute(os.Args[1:], os.Stdout, os.Stderr)) }
