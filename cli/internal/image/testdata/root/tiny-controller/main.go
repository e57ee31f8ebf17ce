// Command tiny-controller stands in for a controller where the image tests build for two
// platforms: it cross-compiles in a second, where a real controller's dependencies take
// minutes of CPU on a cold build cache. With --help it prints the uid it runs as.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "--help" {
		fmt.Printf("usage: tiny-controller --help\nuid=%d gid=%d\n", os.Getuid(), os.Getgid())
		return
	}
	fmt.Fprintln(os.Stderr, "usage: tiny-controller --help")
	os.Exit(2)
}
