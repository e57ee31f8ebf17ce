// Command gen writes the manifests `weir install` embeds: the kustomize build of a directory.
//
//	go run ./gen <kustomization dir> <output file>
package main

import (
	"fmt"
	"os"

	"weir.dev/cli/internal/install"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gen <kustomization dir> <output file>")
		os.Exit(2)
	}
	out, err := install.Build(os.Args[1])
	if err == nil {
		err = os.WriteFile(os.Args[2], out, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
