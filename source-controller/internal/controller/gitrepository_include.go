package controller

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/artifact"
)

// includePathError is a fromPath or toPath that cannot be used; its message names the path
// and, for a symlink, the link.
type includePathError struct{ msg string }

func (e *includePathError) Error() string { return e.msg }

// copyInclude extracts an included artifact from storage into a fresh directory and copies
// its fromPath into the worktree dir at toPath (the included object's name by default),
// replacing what was there.
//
// Every read goes through an os.Root at the extracted tree and every removal and write
// through one at the worktree, so nothing outside either is touched. A path that is absolute,
// has "..", or passes through a symlink leading out of its tree (a link committed in the
// including repository, for toPath) is refused with an includePathError naming the link.
func (r *GitRepositoryReconciler) copyInclude(dir string, inc sourcev1.GitRepositoryInclude, a *meta.Artifact) error {
	name := inc.GitRepositoryRef.Name
	to := inc.ToPath
	if to == "" {
		to = name
	}
	from, err := localPath(inc.FromPath)
	if err != nil {
		return &includePathError{fmt.Sprintf("include of '%s': fromPath '%s' %s", name, inc.FromPath, err)}
	}
	if to, err = localPath(to); err != nil || to == "." {
		return &includePathError{fmt.Sprintf("include of '%s': toPath '%s' must name a directory inside the repository", name, inc.ToPath)}
	}

	tmp, err := os.MkdirTemp("", "include-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	f, err := r.Storage.OpenVerified(*a)
	if err != nil {
		return fmt.Errorf("included GitRepository '%s': %w", name, err)
	}
	err = artifact.Extract(f, tmp, artifact.Limits{})
	f.Close()
	if err != nil {
		return fmt.Errorf("included GitRepository '%s': %w", name, err)
	}

	src, err := os.OpenRoot(tmp)
	if err != nil {
		return err
	}
	defer src.Close()
	if link := linkLeaving(src, from); link != "" {
		return &includePathError{fmt.Sprintf("include of '%s': fromPath '%s' passes through the symlink '%s', which leads out of the included repository", name, from, link)}
	}
	fi, err := src.Lstat(from)
	if err != nil {
		return &includePathError{fmt.Sprintf("include of '%s': fromPath '%s' is not in revision '%s' (symlinks leading out of a repository are left out of its artifact)", name, from, a.Revision)}
	}

	dst, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer dst.Close()
	if link := linkLeaving(dst, to); link != "" {
		return &includePathError{fmt.Sprintf("include of '%s': toPath '%s' passes through the symlink '%s', which leads out of the repository", name, to, link)}
	}
	if err := dst.RemoveAll(to); err != nil {
		return fmt.Errorf("include of '%s': replacing '%s': %w", name, to, err)
	}
	if !fi.IsDir() {
		if err := dst.MkdirAll(path.Dir(to), artifact.DirMode); err != nil {
			return fmt.Errorf("include of '%s': %w", name, err)
		}
		return copyRootFile(src, from, dst, to)
	}
	if err := dst.MkdirAll(to, artifact.DirMode); err != nil {
		return fmt.Errorf("include of '%s': %w", name, err)
	}
	return copyRootTree(src, from, dst, to)
}

// localPath cleans a slash-separated path that must stay inside its tree ("" is the top).
func localPath(p string) (string, error) {
	if p == "" {
		return ".", nil
	}
	c := path.Clean(p)
	if strings.Contains(p, `\`) || !fs.ValidPath(c) {
		return "", errors.New("must be a relative path without '..'")
	}
	return c, nil
}

// linkLeaving returns the first symlink along p (p itself included) in root that does not
// resolve inside root: leading out, dangling or looping. It returns "" when there is none or
// when p stops existing before one. Links are checked from the top down, so a link leading out
// is found before root refuses to look through it.
func linkLeaving(root *os.Root, p string) string {
	if p == "." {
		return ""
	}
	parts := strings.Split(p, "/")
	for i := range parts {
		prefix := path.Join(parts[:i+1]...)
		fi, err := root.Lstat(prefix)
		if err != nil {
			return "" // missing, or under a file: the operations on p fail with that
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			continue
		}
		if _, err := root.Stat(prefix); err != nil {
			return prefix
		}
	}
	return ""
}

// copyRootTree copies the directory from in src to the existing directory to in dst: regular
// files and directories only. A symlink is an error (extracted artifacts hold none).
func copyRootTree(src *os.Root, from string, dst *os.Root, to string) error {
	return fs.WalkDir(src.FS(), from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, from), "/")
		if from == "." {
			rel = p
		}
		target := path.Join(to, rel)
		switch {
		case d.IsDir():
			return dst.MkdirAll(target, artifact.DirMode)
		case d.Type().IsRegular():
			return copyRootFile(src, p, dst, target)
		default:
			return fmt.Errorf("include: '%s' is not a regular file or directory", p)
		}
	})
}

// copyRootFile copies the regular file from in src to the new file to in dst.
func copyRootFile(src *os.Root, from string, dst *os.Root, to string) error {
	in, err := src.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := dst.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, artifact.FileMode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
