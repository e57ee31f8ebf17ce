package storage

import (
	"errors"
	"fmt"
	"io"
	"os"

	"weir.dev/api/meta"
	"weir.dev/pkg/artifact"
)

// Open opens a's file for reading. It fails when the path is invalid or escapes the root, or
// when the file is missing or not a regular file. The caller closes the file.
func (s *Storage) Open(a meta.Artifact) (*os.File, error) {
	if err := checkPath(a.Path); err != nil {
		return nil, err
	}
	f, err := s.root.Open(a.Path)
	if err != nil {
		return nil, fmt.Errorf("opening artifact %s: %w", a.Path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("opening artifact %s: %w", a.Path, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("opening artifact %s: not a regular file", a.Path)
	}
	return f, nil
}

// CopyTo writes a's file to w.
func (s *Storage) CopyTo(a meta.Artifact, w io.Writer) error {
	f, err := s.Open(a)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("reading artifact %s: %w", a.Path, err)
	}
	return nil
}

// Exists reports whether a's path is valid and holds a regular file. It says nothing about
// the file's content: before reusing a file, Verify it.
func (s *Storage) Exists(a meta.Artifact) bool {
	f, err := s.Open(a)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// ErrDigestMismatch is returned when a stored file's bytes differ from its artifact's digest
// or size.
var ErrDigestMismatch = errors.New("digest mismatch")

// Verify re-hashes a's file and compares it with a.Digest (and a.Size when set); a mismatch
// wraps ErrDigestMismatch. An artifact without a digest fails. It is the owner's check before
// reusing its artifact: from then on the artifact server serves the file at a's path only
// while it hashes to a.Digest (until the next write there).
func (s *Storage) Verify(a meta.Artifact) error {
	f, err := s.openVerified(a, true)
	if err != nil {
		return err
	}
	return f.Close()
}

// OpenVerified is Open, for a file whose bytes hash to a.Digest (and whose size is a.Size
// when set), as Verify checks; the file is returned at offset 0. It is for readers of other
// objects' artifacts, whose view of a may be stale: unlike Verify, it does not change what the
// server accepts. It checks the file as it is when opened: callers that build from it hold no
// lock against a concurrent change, which only a process writing into the storage root behind
// Storage's back could make.
func (s *Storage) OpenVerified(a meta.Artifact) (*os.File, error) {
	return s.openVerified(a, false)
}

// openVerified opens and checks a's file; record makes a.Digest the digest the server
// requires at a's path.
func (s *Storage) openVerified(a meta.Artifact, record bool) (*os.File, error) {
	want, err := artifact.ParseDigest(a.Digest)
	if err != nil {
		return nil, fmt.Errorf("verifying artifact %s: %w", a.Path, err)
	}
	f, err := s.Open(a)
	if err != nil {
		return nil, err
	}
	if record {
		s.etags.expect(a.Path, want)
	}
	got, size, err := artifact.Digest(f)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("verifying artifact %s: %w", a.Path, err)
	}
	if got != want {
		f.Close()
		return nil, fmt.Errorf("verifying artifact %s: %w: expected %s, got %s", a.Path, ErrDigestMismatch, want, got)
	}
	if a.Size != nil && *a.Size != size {
		f.Close()
		return nil, fmt.Errorf("verifying artifact %s: %w (size mismatch: expected %d, got %d)", a.Path, ErrDigestMismatch, *a.Size, size)
	}
	if fi, err := f.Stat(); err == nil {
		s.etags.put(a.Path, fi, got)
	}
	return f, nil
}
