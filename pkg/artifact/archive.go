package artifact

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// FileMode and DirMode are the only modes an artifact's headers carry. The executable bit is
// not kept: artifacts hold manifests and charts that Weir never executes, and dropping it
// means a chmod in the source does not change the digest.
const (
	FileMode = 0o644
	DirMode  = 0o755
)

// epoch is the mtime of every entry.
var epoch = time.Unix(0, 0)

// ArchiveOptions tune Archive. The zero value archives everything within DefaultLimits.
type ArchiveOptions struct {
	// Filter, when set, is called with each entry's slash-separated path relative to the
	// archived directory (the path it will have in the archive) and whether it is a
	// directory; it returns false to leave the entry out. Leaving out a directory leaves out
	// its whole subtree. Filtered entries are not reported to Warn. A symlink that cannot be
	// archived is offered to Filter as a file before it is warned about.
	Filter func(relPath string, isDir bool) bool

	// Warn, when set, is called once for each entry dropped because it cannot be archived
	// safely: a symlink that leaves the root, dangles or loops, a device, socket or fifo.
	// The message names the entry's relative path, never a link's target.
	Warn func(msg string)

	// MaxFiles bounds the number of entries (regular files plus directories); zero means
	// DefaultMaxFiles. Archive fails rather than write more, so every artifact it writes
	// passes an Extract with the same Limits.
	MaxFiles int

	// MaxSize bounds the total uncompressed bytes of the regular files; zero means
	// DefaultMaxSize.
	MaxSize int64
}

// ArchiveStats describes what Archive wrote.
type ArchiveStats struct {
	// Files is the number of regular files.
	Files int
	// Dirs is the number of directories, not counting the archived directory itself.
	Dirs int
	// Size is the total uncompressed bytes of the regular files.
	Size int64
}

// Archive writes the tree under dir to w as a deterministic gzip tar (see the package doc).
//
// Regular files and directories are stored as they are. A symlink whose target, resolved
// through any chain of relative or absolute links, is inside dir is stored as what it points
// to: a regular file with the target's content, or a directory with a copy of the target's
// subtree (named under the link's path). Every other symlink is dropped and reported to Warn:
// one leaving dir, dangling or looping, and a directory link whose target contains the link
// or any directory being walked (it would recurse). Devices, sockets and fifos are dropped
// and reported too. ".git" is not special: use Filter to leave it out.
//
// dir must not change while it is archived. On error, w holds a truncated stream that must be
// discarded.
func Archive(w io.Writer, dir string, opts ArchiveOptions) (ArchiveStats, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ArchiveStats{}, err
	}
	realDir, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return ArchiveStats{}, fmt.Errorf("archiving %s: %w", dir, err)
	}
	root, err := os.OpenRoot(realDir)
	if err != nil {
		return ArchiveStats{}, fmt.Errorf("archiving %s: %w", dir, err)
	}
	defer root.Close()

	lim := Limits{MaxFiles: opts.MaxFiles, MaxSize: opts.MaxSize}.withDefaults()
	zw, err := gzip.NewWriterLevel(w, gzip.DefaultCompression)
	if err != nil {
		return ArchiveStats{}, err
	}
	a := &archiver{
		root:     root,
		realRoot: realDir,
		tw:       tar.NewWriter(zw),
		opts:     opts,
		lim:      lim,
		buf:      make([]byte, 32*1024),
	}
	if err := a.walkDir(".", "", []string{"."}); err != nil {
		return a.stats, err
	}
	if err := a.tw.Close(); err != nil {
		return a.stats, err
	}
	return a.stats, zw.Close()
}

// archiver walks the real directory tree and writes its entries.
type archiver struct {
	root     *os.Root // opened at realRoot: every read goes through it
	realRoot string   // dir with symlinks resolved
	tw       *tar.Writer
	opts     ArchiveOptions
	lim      Limits
	stats    ArchiveStats
	buf      []byte
}

// walkDir writes the entries of the directory at realRel (relative to realRoot, symlinks
// resolved) under the archive path name ("" for the top). stack holds the real paths of the
// directories being walked, outermost first, to refuse directory links that loop.
func (a *archiver) walkDir(realRel, name string, stack []string) error {
	d, err := a.root.Open(realRel)
	if err != nil {
		return fmt.Errorf("reading directory %s: %w", displayName(name), err)
	}
	entries, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return fmt.Errorf("reading directory %s: %w", displayName(name), err)
	}
	slices.SortFunc(entries, func(x, y fs.DirEntry) int { return strings.Compare(x.Name(), y.Name()) })

	for _, e := range entries {
		childName := path.Join(name, e.Name())
		childReal := filepath.Join(realRel, e.Name())
		t := e.Type()
		switch {
		case t&fs.ModeSymlink != 0:
			if err := a.symlink(childReal, childName, stack); err != nil {
				return err
			}
		case t.IsDir():
			if err := a.dir(childReal, childName, stack); err != nil {
				return err
			}
		case t.IsRegular():
			if err := a.file(childReal, childName); err != nil {
				return err
			}
		default:
			a.drop(childName, false, "not a regular file or directory")
		}
	}
	return nil
}

// symlink archives the link at realRel as its target, or drops it.
func (a *archiver) symlink(realRel, name string, stack []string) error {
	target, err := filepath.EvalSymlinks(filepath.Join(a.realRoot, realRel))
	if err != nil {
		a.drop(name, false, "symlink is dangling or loops")
		return nil
	}
	rel, err := filepath.Rel(a.realRoot, target)
	if err != nil || !filepath.IsLocal(rel) {
		a.drop(name, false, "symlink target is outside the root")
		return nil
	}
	fi, err := a.root.Lstat(rel)
	if err != nil {
		a.drop(name, false, "symlink target cannot be read")
		return nil
	}
	switch {
	case fi.IsDir():
		for _, s := range stack {
			if within(s, rel) {
				a.drop(name, true, "symlink points to a directory that contains it")
				return nil
			}
		}
		return a.dir(rel, name, stack)
	case fi.Mode().IsRegular():
		return a.file(rel, name)
	default:
		a.drop(name, false, "symlink target is not a regular file or directory")
		return nil
	}
}

// dir writes a directory entry and its subtree, unless Filter leaves it out.
func (a *archiver) dir(realRel, name string, stack []string) error {
	if a.opts.Filter != nil && !a.opts.Filter(name, true) {
		return nil
	}
	if err := a.count(name); err != nil {
		return err
	}
	a.stats.Dirs++
	hdr := &tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: DirMode, ModTime: epoch}
	if err := a.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return a.walkDir(realRel, name, append(stack, realRel))
}

// file writes a regular file entry with its content, unless Filter leaves it out.
func (a *archiver) file(realRel, name string) error {
	if a.opts.Filter != nil && !a.opts.Filter(name, false) {
		return nil
	}
	if err := a.count(name); err != nil {
		return err
	}
	f, err := a.root.Open(realRel)
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("reading %s: no longer a regular file", name)
	}
	if fi.Size() > a.lim.MaxSize-a.stats.Size {
		return fmt.Errorf("archiving %s: total size exceeds the limit of %d bytes", name, a.lim.MaxSize)
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: FileMode, Size: fi.Size(), ModTime: epoch}
	if err := a.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	n, err := io.CopyBuffer(a.tw, io.LimitReader(f, fi.Size()), a.buf)
	if err == nil && n < fi.Size() {
		err = errors.New("file shrank while it was read")
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	a.stats.Files++
	a.stats.Size += n
	return nil
}

// count enforces MaxFiles for one more entry.
func (a *archiver) count(name string) error {
	if a.stats.Files+a.stats.Dirs >= a.lim.MaxFiles {
		return fmt.Errorf("archiving %s: more than %d entries", name, a.lim.MaxFiles)
	}
	return nil
}

// drop reports an entry that cannot be archived, unless Filter would have left it out anyway.
func (a *archiver) drop(name string, isDir bool, why string) {
	if a.opts.Filter != nil && !a.opts.Filter(name, isDir) {
		return
	}
	if a.opts.Warn != nil {
		a.opts.Warn(fmt.Sprintf("skipped %s: %s", name, why))
	}
}

// within reports whether the real path p is dir or lies under it (both relative to the root,
// "." being the root).
func within(p, dir string) bool {
	return dir == "." || p == dir || strings.HasPrefix(p, dir+string(filepath.Separator))
}

func displayName(name string) string {
	if name == "" {
		return "."
	}
	return name
}
