package storage

import (
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

// Exists reports whether a's path is valid and holds a regular file.
func (s *Storage) Exists(a meta.Artifact) bool {
	f, err := s.Open(a)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// Verify re-hashes a's file and compares it with a.Digest (and a.Size when set). An artifact
// without a digest fails.
func (s *Storage) Verify(a meta.Artifact) error {
	want, err := artifact.ParseDigest(a.Digest)
	if err != nil {
		return fmt.Errorf("verifying artifact %s: %w", a.Path, err)
	}
	f, err := s.Open(a)
	if err != nil {
		return err
	}
	defer f.Close()
	got, size, err := artifact.Digest(f)
	if err != nil {
		return fmt.Errorf("verifying artifact %s: %w", a.Path, err)
	}
	if got != want {
		return fmt.Errorf("verifying artifact %s: digest mismatch: expected %s, got %s", a.Path, want, got)
	}
	if a.Size != nil && *a.Size != size {
		return fmt.Errorf("verifying artifact %s: size mismatch: expected %d, got %d", a.Path, *a.Size, size)
	}
	return nil
}
