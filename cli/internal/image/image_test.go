package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/x509"
	"debug/elf"
	"encoding/pem"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// TestPushedImages pushes every controller's image for the host's platform, and the stand-in
// controller's for linux/amd64 and linux/arm64, to a registry on 127.0.0.1, pulls them back and
// checks what a cluster would run.
func TestPushedImages(t *testing.T) {
	host := startRegistry(t, "", "")
	ctx := context.Background()
	for ns, set := range map[string]Set{"all": builtAll(t), "two": twoPlatforms(t)} {
		pushed, err := Push(ctx, set, host+"/"+ns, testVersion, Insecure())
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pushed {
			t.Logf("pushed %s", p)
			want, _ := set[p.Controller].Digest()
			if p.Digest != want {
				t.Errorf("%s: Push says %s, the index is %s", p.Controller, p.Digest, want)
			}
		}
	}

	// Every controller, for the host.
	for _, c := range Controllers {
		imgs := platforms(t, pull(t, host+"/all/"+c+":"+testVersion))
		if len(imgs) != 1 || imgs[hostPlatform] == nil {
			t.Fatalf("%s: index holds %v, want %s only", c, slices.Collect(maps.Keys(imgs)), hostPlatform)
		}
		bin := checkImage(t, c, hostPlatform, imgs[hostPlatform])["/"+c].data
		if !bytes.Contains(bin, []byte(testVersion)) {
			t.Errorf("%s: the binary does not hold its version %s", c, testVersion)
		}
		runHelp(t, c, bin, "--metrics-addr")
	}

	// One controller for two platforms.
	imgs := platforms(t, pull(t, host+"/two/"+tiny+":"+testVersion))
	amd, arm := Platform{"linux", "amd64"}, Platform{"linux", "arm64"}
	if len(imgs) != 2 || imgs[amd] == nil || imgs[arm] == nil {
		t.Fatalf("%s: index holds %v, want linux/amd64 and linux/arm64", tiny, slices.Collect(maps.Keys(imgs)))
	}
	for p, img := range imgs {
		bin := checkImage(t, tiny, p, img)["/"+tiny].data
		f, err := elf.NewFile(bytes.NewReader(bin))
		if err != nil {
			t.Fatalf("%s %s: binary is no ELF: %v", tiny, p, err)
		}
		want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[p.Arch]
		if f.Machine != want {
			t.Errorf("%s %s: ELF machine %s, want %s", tiny, p, f.Machine, want)
		}
		if p == hostPlatform {
			runHelp(t, tiny, bin, "usage: tiny-controller")
		}
	}
}

func pull(t *testing.T, ref string) v1.ImageIndex {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Index(r)
	if err != nil {
		t.Fatalf("pull %s: %v", ref, err)
	}
	if mt, _ := idx.MediaType(); mt != types.OCIImageIndex {
		t.Errorf("%s: media type %s, want an OCI index", ref, mt)
	}
	return idx
}

// platforms returns the images of idx by the platform their descriptors name.
func platforms(t *testing.T, idx v1.ImageIndex) map[Platform]v1.Image {
	t.Helper()
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	out := map[Platform]v1.Image{}
	for _, d := range m.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		out[Platform{d.Platform.OS, d.Platform.Architecture}] = img
	}
	return out
}

// file is one entry of an image's filesystem.
type file struct {
	hdr  *tar.Header
	data []byte
}

// checkImage checks img's manifest, config and files, and returns the files by absolute path.
func checkImage(t *testing.T, c string, p Platform, img v1.Image) map[string]file {
	t.Helper()
	if mt, _ := img.MediaType(); mt != types.OCIManifestSchema1 {
		t.Errorf("%s %s: manifest media type %s", c, p, mt)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.OS != p.OS || cfg.Architecture != p.Arch {
		t.Errorf("%s %s: config says %s/%s", c, p, cfg.OS, cfg.Architecture)
	}
	if cfg.Config.User != "65532:65532" || !slices.Equal(cfg.Config.Entrypoint, []string{"/" + c}) || len(cfg.Config.Cmd) != 0 {
		t.Errorf("%s %s: User %q Entrypoint %q Cmd %q", c, p, cfg.Config.User, cfg.Config.Entrypoint, cfg.Config.Cmd)
	}
	if !cfg.Created.Time.Equal(testCreated) {
		t.Errorf("%s %s: created %s, want %s", c, p, cfg.Created, testCreated)
	}
	for k, v := range map[string]string{
		"org.opencontainers.image.title":    c,
		"org.opencontainers.image.version":  testVersion,
		"org.opencontainers.image.revision": "0123456789abcdef0123456789abcdef01234567",
		"org.opencontainers.image.source":   "https://example.invalid/weir",
	} {
		if got := cfg.Config.Labels[k]; got != v {
			t.Errorf("%s %s: label %s=%q, want %q", c, p, k, got, v)
		}
	}

	files := map[string]file{}
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(testCreated) {
			t.Errorf("%s %s: %s dated %s", c, p, h.Name, h.ModTime)
		}
		files["/"+strings.TrimSuffix(h.Name, "/")] = file{h, data}
	}
	want := map[string]struct {
		mode     int64
		uid, gid int
	}{
		"/" + c:                              {0o755, 0, 0},
		"/etc/passwd":                        {0o644, 0, 0},
		"/etc/group":                         {0o644, 0, 0},
		"/etc/nsswitch.conf":                 {0o644, 0, 0},
		"/etc/ssl/certs/ca-certificates.crt": {0o644, 0, 0},
		"/tmp":                               {0o1777, 0, 0},
		"/home/nonroot":                      {0o700, 65532, 65532},
	}
	for path, w := range want {
		f, ok := files[path]
		if !ok {
			t.Errorf("%s %s: no %s", c, p, path)
			continue
		}
		if f.hdr.Mode != w.mode || f.hdr.Uid != w.uid || f.hdr.Gid != w.gid {
			t.Errorf("%s %s: %s has mode %o owner %d:%d, want %o %d:%d", c, p, path, f.hdr.Mode, f.hdr.Uid, f.hdr.Gid, w.mode, w.uid, w.gid)
		}
	}
	for _, shell := range []string{"/bin/sh", "/bin", "/usr"} {
		if _, ok := files[shell]; ok {
			t.Errorf("%s %s: has %s", c, p, shell)
		}
	}
	if !strings.Contains(string(files["/etc/passwd"].data), "\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n") {
		t.Errorf("%s %s: /etc/passwd has no nonroot user 65532:\n%s", c, p, files["/etc/passwd"].data)
	}
	if n := countCerts(t, files["/etc/ssl/certs/ca-certificates.crt"].data); n < 100 {
		t.Errorf("%s %s: CA bundle holds %d certificates, want the ~100 of NSS", c, p, n)
	}
	return files
}

// countCerts parses every PEM block of bundle as a certificate.
func countCerts(t *testing.T, bundle []byte) int {
	t.Helper()
	n := 0
	for len(bundle) > 0 {
		var b *pem.Block
		b, bundle = pem.Decode(bundle)
		if b == nil {
			break
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			t.Errorf("CA bundle: certificate %d: %v", n, err)
		}
		n++
	}
	if len(bytes.TrimSpace(bundle)) != 0 {
		t.Errorf("CA bundle: %d bytes after the last certificate", len(bundle))
	}
	return n
}

// runHelp runs the host's binary of controller c, as extracted from its image, with --help,
// and expects it to say want.
func runHelp(t *testing.T, c string, binary []byte, want string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), c)
	if err := os.WriteFile(path, binary, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(path, "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), want) {
		t.Errorf("%s --help: %v\n%s", c, err, out)
	}
}
