package image

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// RefName is the name WriteLayout and WriteArchive give controller c's index
// (org.opencontainers.image.ref.name): weir/<c>:<version>, the name deploy/ uses. podman load
// stores it as localhost/weir/<c>:<version>.
func RefName(c, version string) string { return "weir/" + c + ":" + version }

// WriteLayout writes set into dir as one OCI image layout, each index named by RefName.
// An index.json already in dir is replaced; blobs already there are kept.
func WriteLayout(dir string, set Set, version string) error {
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	for _, c := range set.Names() {
		ann := map[string]string{"org.opencontainers.image.ref.name": RefName(c, version)}
		if err := p.AppendIndex(set[c], layout.WithAnnotations(ann)); err != nil {
			return fmt.Errorf("write %s into %s: %w", c, dir, err)
		}
	}
	return nil
}

// WriteArchive writes each index of set as an OCI archive (a tar of an OCI image layout
// holding that one index, with every platform) named <dir>/<controller>-<version>.tar, and
// returns their paths. `podman load -i` loads one and picks the host's platform; skopeo copies
// one with `oci-archive:<path>`. The same set always gives the same bytes.
func WriteArchive(dir string, set Set, version string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for _, c := range set.Names() {
		tmp, err := os.MkdirTemp("", "weir-layout-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		if err := WriteLayout(tmp, Set{c: set[c]}, version); err != nil {
			return nil, err
		}
		path := filepath.Join(dir, c+"-"+version+".tar")
		if err := tarDir(path, tmp); err != nil {
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// tarDir writes the tree under src to the tar file path, in lexical order, root-owned, with
// fixed modes and times.
func tarDir(path, src string) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == src {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		h := &tar.Header{Name: filepath.ToSlash(rel), ModTime: time.Unix(0, 0), Format: tar.FormatUSTAR}
		if d.IsDir() {
			h.Typeflag, h.Name, h.Mode = tar.TypeDir, h.Name+"/", 0o755
			return tw.WriteHeader(h)
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file", rel)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		h.Typeflag, h.Mode, h.Size = tar.TypeReg, 0o644, info.Size()
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		r, err := os.Open(p)
		if err != nil {
			return err
		}
		defer r.Close()
		_, err = io.Copy(tw, r)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
