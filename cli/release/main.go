// Command release builds Weir's four controller images without a container daemon
// (weir.dev/cli/internal/image) and publishes them:
//
//	go run ./release images --version V --out DIR   # an OCI image layout in DIR
//	go run ./release push --registry R --version V  # R/<controller>:V, credentials from ~/.docker/config.json
//	go run ./release tar --version V --out DIR      # DIR/<controller>-V.tar, for `podman load -i`
//
// Every command takes --platforms (default linux/amd64,linux/arm64) and labels the images with
// --source, --revision and --created, which default to the Git repository around the working
// directory, so that one commit always gives the same digests. `make images`, `make push` and
// `make images-tar` run it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"weir.dev/cli/internal/image"
)

const usage = `usage: release images|push|tar [flags]
  images --version V --out DIR            write an OCI image layout of the four images into DIR
  push   --registry R --version V         push R/<controller>:V (add --insecure for a plain-HTTP test registry)
  tar    --version V --out DIR            write DIR/<controller>-V.tar, OCI archives for podman load -i
flags of every command: --platforms, --controllers, --source, --revision, --created, --root`

func main() {
	if len(os.Args) < 2 || strings.HasPrefix(os.Args[1], "-") {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1], os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cmd string, args []string) error {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	var (
		version     = fs.String("version", "", "the images' tag, linked into the binaries (required)")
		out         = fs.String("out", "", "images, tar: the folder to write to (required)")
		registry    = fs.String("registry", "", "push: host[:port][/path] to push <registry>/<controller>:<version> to (required)")
		insecure    = fs.Bool("insecure", false, "push: allow plain HTTP, for a test registry on a loopback address")
		platforms   = fs.String("platforms", "linux/amd64,linux/arm64", "comma-separated os/arch to build for")
		controllers = fs.String("controllers", strings.Join(image.Controllers, ","), "comma-separated controllers to build")
		root        = fs.String("root", "", "the repository root holding go.work (default: found above the working directory)")
		source      = fs.String("source", "", "org.opencontainers.image.source (default: the origin remote's URL, without credentials)")
		revision    = fs.String("revision", "", "org.opencontainers.image.revision (default: git rev-parse HEAD)")
		created     = fs.String("created", "", "the images' time, as Unix seconds or RFC 3339 (default: HEAD's commit time)")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch cmd {
	case "images", "tar":
		if *out == "" {
			return errors.New(cmd + ": --out is required")
		}
	case "push":
		// A reference that cannot be pushed is refused before minutes of building.
		if err := image.CheckTarget(*registry, *version); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
	if *version == "" {
		return errors.New(cmd + ": --version is required")
	}
	o := image.Options{Version: *version, Source: *source, Revision: *revision, Out: os.Stderr,
		Controllers: strings.Split(*controllers, ",")}
	var err error
	if o.Platforms, err = image.ParsePlatforms(*platforms); err != nil {
		return err
	}
	if o.Root, err = findRoot(*root); err != nil {
		return err
	}
	if err := fromGit(&o, *created); err != nil {
		return err
	}

	start := time.Now()
	set, err := image.Build(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "built %d images in %s\n", len(set), time.Since(start).Round(time.Second))
	switch cmd {
	case "images":
		if err := image.WriteLayout(*out, set, *version); err != nil {
			return err
		}
		for _, c := range set.Names() {
			d, err := set[c].Digest()
			if err != nil {
				return err
			}
			fmt.Printf("%s@%s\n", image.RefName(c, *version), d)
		}
		fmt.Fprintf(os.Stderr, "OCI image layout: %s\n", *out)
	case "push":
		var opts []image.PushOption
		if *insecure {
			opts = append(opts, image.Insecure())
		}
		pushed, err := image.Push(ctx, set, *registry, *version, opts...)
		for _, p := range pushed {
			fmt.Println(p)
		}
		return err
	case "tar":
		paths, err := image.WriteArchive(*out, set, *version)
		if err != nil {
			return err
		}
		for _, p := range paths {
			fmt.Println(p)
		}
	}
	return nil
}

// findRoot returns dir, or the nearest folder above the working directory that holds go.work.
func findRoot(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.work above %s: pass --root", wd)
		}
	}
}

// fromGit fills the labels and time the flags left empty from the repository at o.Root.
func fromGit(o *image.Options, created string) error {
	git := func(args ...string) string {
		out, err := exec.Command("git", append([]string{"-C", o.Root}, args...)...).Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	if created == "" {
		created = git("log", "-1", "--format=%ct")
		if created == "" {
			return errors.New("--created: not given, and git cannot tell HEAD's commit time")
		}
	}
	if secs, err := strconv.ParseInt(created, 10, 64); err == nil {
		o.Created = time.Unix(secs, 0)
	} else if o.Created, err = time.Parse(time.RFC3339, created); err != nil {
		return fmt.Errorf("--created %q: want Unix seconds or RFC 3339", created)
	}
	if o.Revision == "" {
		o.Revision = git("rev-parse", "HEAD")
	}
	if o.Source == "" {
		o.Source = withoutUserinfo(git("remote", "get-url", "origin"))
	}
	return nil
}

// withoutUserinfo drops credentials from a remote's URL, which must never reach an image.
func withoutUserinfo(remote string) string {
	u, err := url.Parse(remote)
	if err != nil || u.Scheme == "" {
		// scp-like user@host:path names a user, never a secret; a local path is no source.
		if strings.Contains(remote, ":") && !strings.HasPrefix(remote, "/") {
			return remote
		}
		return ""
	}
	if u.Scheme == "file" {
		return ""
	}
	u.User = nil
	return u.String()
}
