package image

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// compile runs one `go build` for platform p over every controller of o, from the workspace
// root, and returns the folder that holds the binaries, each named after its controller.
// The flags make the binaries static and free of paths and VCS stamps, so that they depend
// on the sources and the toolchain only.
func compile(ctx context.Context, o Options, p Platform, dir string) (string, error) {
	out := filepath.Join(dir, p.OS+"_"+p.Arch)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	args := []string{"build", "-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w -X weir.dev/pkg/app.Version=" + o.Version,
		"-o", out + string(filepath.Separator)}
	for _, c := range o.Controllers {
		args = append(args, "./"+c)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = o.Root
	// The build's own settings win over the caller's environment; GOFLAGS is cleared so that
	// a -race or -cover meant for tests never reaches a release binary.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Arch,
		"GOFLAGS=", "GOWORK="+filepath.Join(o.Root, "go.work"))
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build for %s: %v\n%s", p, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
