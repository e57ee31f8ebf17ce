package storage

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"weir.dev/api/meta"
)

// staleTempAge is how old a temporary file must be before GarbageCollect deletes it: older
// than any write in progress.
const staleTempAge = 5 * time.Minute

// GarbageCollect deletes old artifacts of current's object: in its directory it keeps
// current's file and the newest retention-1 other files by modification time, and deletes the
// other regular files and any temporary file older than five minutes. Subdirectories and
// symlinks are left alone. It returns the deleted paths, relative to the root. Call it with
// the object's Lock held.
func (s *Storage) GarbageCollect(current meta.Artifact) (deleted []string, err error) {
	if err := checkPath(current.Path); err != nil {
		return nil, err
	}
	dir, keep := path.Split(current.Path)
	dir = path.Clean(dir)
	d, err := s.root.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("collecting %s: %w", dir, err)
	}
	entries, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("collecting %s: %w", dir, err)
	}

	type candidate struct {
		name  string
		mtime time.Time
	}
	var old []candidate
	var doomed []string
	now := time.Now()
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		switch name := e.Name(); {
		case strings.HasPrefix(name, tempPrefix):
			if now.Sub(fi.ModTime()) > staleTempAge {
				doomed = append(doomed, name)
			}
		case strings.HasPrefix(name, "."), name == keep:
		default:
			old = append(old, candidate{name, fi.ModTime()})
		}
	}
	// Newest first; the name breaks ties so the result does not depend on directory order.
	slices.SortFunc(old, func(a, b candidate) int {
		return cmp.Or(b.mtime.Compare(a.mtime), strings.Compare(b.name, a.name))
	})
	for i, c := range old {
		if i >= s.retention-1 {
			doomed = append(doomed, c.name)
		}
	}

	var errs []error
	for _, name := range doomed {
		p := path.Join(dir, name)
		if err := s.root.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		s.etags.forget(p)
		deleted = append(deleted, p)
	}
	if err := errors.Join(errs...); err != nil {
		return deleted, fmt.Errorf("collecting %s: %w", dir, err)
	}
	return deleted, nil
}

// RemoveAll deletes every artifact of an object, for its finalizer. A missing directory is
// not an error.
func (s *Storage) RemoveAll(kind, namespace, name string) error {
	for _, seg := range []string{kind, namespace, name} {
		if err := checkSegment(seg); err != nil {
			return fmt.Errorf("removing artifacts of %s %s/%s: %w", kind, namespace, name, err)
		}
	}
	dir := strings.ToLower(kind) + "/" + namespace + "/" + name
	if err := s.root.RemoveAll(dir); err != nil {
		return fmt.Errorf("removing artifacts of %s %s/%s: %w", kind, namespace, name, err)
	}
	s.etags.forgetUnder(dir + "/")
	return nil
}
