package git

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// A Mirror keeps a directory equal to the tree of the last commit written into it, without a
// .git directory. Writing the next commit touches only the files that differ, so a new revision
// of a large repository costs what changed, not a fresh checkout of every file (creating a file
// costs ~0.75 ms here: 4 s for a 5,000-file repository).
//
// A Mirror is not safe for concurrent use. After a failed Write the directory's state is
// unknown: remove it and start a new Mirror.
type Mirror struct {
	// Dir is the directory; Write creates it.
	Dir string

	// written is what Dir holds: each file's blob hash and mode, by slash path.
	written map[string]mirrored
}

type mirrored struct {
	hash plumbing.Hash
	mode filemode.FileMode
}

// Write makes Dir hold exactly commit's tree, or its files under the sparse prefixes when set
// (as go-git's sparse checkout selects them). Submodules are left out, as in a checkout without
// them.
func (m *Mirror) Write(commit *object.Commit, sparse []string) error {
	tree, err := commit.Tree()
	if err != nil {
		return err
	}
	want := map[string]mirrored{}
	files := map[string]*object.File{}
	err = tree.Files().ForEach(func(f *object.File) error {
		if len(sparse) > 0 && !hasAnyPrefix(f.Name, sparse) {
			return nil
		}
		want[f.Name] = mirrored{hash: f.Hash, mode: f.Mode}
		files[f.Name] = f
		return nil
	})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(m.Dir, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(m.Dir)
	if err != nil {
		return err
	}
	defer root.Close()

	// Removed and changed entries go first, so no old symbolic link is left where a
	// directory of the new tree must be created.
	for name, was := range m.written {
		if now, ok := want[name]; ok && now == was {
			continue
		}
		if err := root.Remove(filepath.FromSlash(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		delete(m.written, name)
		if _, ok := want[name]; !ok {
			removeEmptyParents(root, name)
		}
	}
	if m.written == nil {
		m.written = make(map[string]mirrored, len(want))
	}
	for name, w := range want {
		if _, ok := m.written[name]; ok {
			continue
		}
		if err := writeEntry(root, name, w.mode, files[name]); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
		m.written[name] = w
	}
	return nil
}

// Len is how many files the directory holds.
func (m *Mirror) Len() int { return len(m.written) }

// writeEntry creates name in root: a symbolic link, or a regular file (executable when its
// mode says so). os.Root keeps every write inside the directory, whatever links it holds.
func writeEntry(root *os.Root, name string, mode filemode.FileMode, f *object.File) error {
	p := filepath.FromSlash(name)
	if dir := filepath.Dir(p); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	if mode == filemode.Symlink {
		target, err := f.Contents()
		if err != nil {
			return err
		}
		return root.Symlink(target, p)
	}
	perm := fs.FileMode(0o644)
	if mode == filemode.Executable {
		perm = 0o755
	}
	out, err := root.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	r, err := f.Reader()
	if err != nil {
		out.Close()
		return err
	}
	_, err = io.Copy(out, r)
	r.Close()
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// removeEmptyParents removes the directories above name that are left empty, as a fresh
// checkout would not have them.
func removeEmptyParents(root *os.Root, name string) {
	for dir := filepath.Dir(filepath.FromSlash(name)); dir != "."; dir = filepath.Dir(dir) {
		if root.Remove(dir) != nil {
			return // not empty, or gone
		}
	}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
