package image

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Controllers are the images Weir ships, each built from the main package of the same name
// at the workspace root.
var Controllers = []string{"source-controller", "kustomize-controller", "helm-controller", "notification-controller"}

// DefaultPlatforms are the platforms built when Options.Platforms is empty.
var DefaultPlatforms = []Platform{{OS: "linux", Arch: "amd64"}, {OS: "linux", Arch: "arm64"}}

// Platform is a GOOS/GOARCH pair, which is also the image's os/architecture.
type Platform struct{ OS, Arch string }

func (p Platform) String() string { return p.OS + "/" + p.Arch }

// ParsePlatforms reads a comma-separated list such as "linux/amd64,linux/arm64".
func ParsePlatforms(s string) ([]Platform, error) {
	var out []Platform
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		goos, goarch, ok := strings.Cut(f, "/")
		if !ok || goos == "" || goarch == "" || strings.Contains(goarch, "/") {
			return nil, fmt.Errorf("platform %q: want os/arch, e.g. linux/amd64", f)
		}
		p := Platform{OS: goos, Arch: goarch}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// Options say what Build builds and how the images are labelled.
type Options struct {
	// Root is the repository root: it holds go.work and a main package per controller.
	Root string
	// Version is linked into the binaries (weir.dev/pkg/app.Version) and labels the images.
	Version string
	// Revision (the commit) and Source (the repository's URL) label the images when set.
	Revision string
	Source   string
	// Created is every file's time and the images' creation time; use the commit's time so that
	// a commit always gives the same digests. It is truncated to whole seconds.
	Created time.Time
	// Platforms default to DefaultPlatforms; Controllers default to Controllers.
	Platforms   []Platform
	Controllers []string
	// Out receives one progress line per step; nil discards them.
	Out io.Writer
}

// withDefaults checks o and fills in its defaults.
func (o Options) withDefaults() (Options, error) {
	if o.Root == "" {
		return o, errors.New("image: Options.Root is empty")
	}
	root, err := filepath.Abs(o.Root)
	if err != nil {
		return o, err
	}
	o.Root = root
	if _, err := os.Stat(filepath.Join(o.Root, "go.work")); err != nil {
		return o, fmt.Errorf("image: %s holds no go.work", o.Root)
	}
	if o.Version == "" {
		return o, errors.New("image: Options.Version is empty")
	}
	if o.Created.IsZero() {
		return o, errors.New("image: Options.Created is zero: use the commit's time")
	}
	o.Created = o.Created.UTC().Truncate(time.Second)
	if len(o.Platforms) == 0 {
		o.Platforms = DefaultPlatforms
	}
	if len(o.Controllers) == 0 {
		o.Controllers = Controllers
	}
	for _, c := range o.Controllers {
		if c == "" || c != filepath.Base(c) || strings.HasPrefix(c, ".") {
			return o, fmt.Errorf("image: controller %q: want the name of a folder at the root", c)
		}
		if _, err := os.Stat(filepath.Join(o.Root, c, "main.go")); err != nil {
			return o, fmt.Errorf("image: controller %q: no main.go in %s", c, filepath.Join(o.Root, c))
		}
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	return o, nil
}
