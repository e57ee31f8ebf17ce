package storage

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"syscall"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
	"weir.dev/pkg/artifact"
)

// tempPrefix names in-progress writes; artifact paths never start a segment with ".".
const tempPrefix = ".tmp-"

// Archive writes dir as a deterministic gzip tar (artifact.Archive) to a's path, atomically,
// and sets a.Digest, a.Size and a.LastUpdateTime. On error the previous file at a's path, if
// any, is untouched and no temporary file is left.
func (s *Storage) Archive(a *meta.Artifact, dir string, opts artifact.ArchiveOptions) error {
	return s.writeAtomic(a, func(w io.Writer) error {
		_, err := artifact.Archive(w, dir, opts)
		return err
	})
}

// WriteFile copies r to a's path, atomically, and sets a.Digest, a.Size and a.LastUpdateTime:
// for files that are not archives of a directory, such as a Helm repository index or a
// packaged chart. On error the previous file, if any, is untouched.
func (s *Storage) WriteFile(a *meta.Artifact, r io.Reader) error {
	return s.writeAtomic(a, func(w io.Writer) error {
		_, err := io.Copy(w, r)
		return err
	})
}

// writeAtomic writes a temporary file in a's directory through write, syncs it, renames it
// to a's path and syncs the directory.
func (s *Storage) writeAtomic(a *meta.Artifact, write func(io.Writer) error) (err error) {
	if err := checkPath(a.Path); err != nil {
		return err
	}
	dir := path.Dir(a.Path)
	if err := s.root.MkdirAll(dir, 0o755); err != nil {
		return writeError(a.Path, err)
	}
	tmp := path.Join(dir, tempPrefix+strings.ToLower(rand.Text()))
	f, err := s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return writeError(a.Path, err)
	}
	renamed := false
	defer func() {
		if !renamed {
			f.Close()
			s.root.Remove(tmp)
		}
	}()

	h := sha256.New()
	cw := &countingWriter{}
	bw := bufio.NewWriterSize(io.MultiWriter(f, h, cw), 64<<10)
	if err := write(bw); err != nil {
		return writeError(a.Path, err)
	}
	if err := bw.Flush(); err != nil {
		return writeError(a.Path, err)
	}
	if err := f.Sync(); err != nil {
		return writeError(a.Path, err)
	}
	if err := f.Close(); err != nil {
		return writeError(a.Path, err)
	}
	if err := s.root.Rename(tmp, a.Path); err != nil {
		return writeError(a.Path, err)
	}
	renamed = true
	if err := s.syncDir(dir); err != nil {
		return writeError(a.Path, err)
	}

	digest := artifact.DigestAlgorithm + ":" + hex.EncodeToString(h.Sum(nil))
	s.etags.expect(a.Path, digest)
	// Stat after the rename, which moves the change time; the object lock keeps other
	// writers of this path out.
	if fi, err := s.root.Lstat(a.Path); err == nil {
		s.etags.put(a.Path, fi, digest)
	}
	size := cw.n
	a.Digest = digest
	a.Size = &size
	a.LastUpdateTime = metav1.Now()
	return nil
}

// ErrNoSpace says the storage volume has no space left for an artifact.
var ErrNoSpace = errors.New("the storage is full (no space left on device)")

// writeError names the artifact a write failed for. A full volume is said in so many words,
// without the temporary file's path: nothing in the artifact is at fault, and the previous
// artifact is still served.
func writeError(p string, err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		err = ErrNoSpace
	}
	return fmt.Errorf("writing artifact %s: %w", p, err)
}

// syncDir makes a rename in dir durable.
func (s *Storage) syncDir(dir string) error {
	d, err := s.root.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
