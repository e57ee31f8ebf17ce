package artifact

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Default limits, used wherever a Limits field (or the matching ArchiveOptions field) is zero.
const (
	// DefaultMaxFiles is the default bound on entries (regular files plus directories).
	DefaultMaxFiles = 100_000
	// DefaultMaxSize is the default bound on total uncompressed file bytes: 1 GiB.
	DefaultMaxSize int64 = 1 << 30
)

// maxTrailing bounds what Extract reads after the end-of-archive marker, so that the gzip
// checksum is verified without inflating an unbounded tail. Go writes no padding; other tar
// writers pad to a 10 KiB record.
const maxTrailing = 64 << 10

// Limits bound what Extract writes. A zero field means its default.
type Limits struct {
	// MaxFiles bounds the number of entries (regular files plus directories).
	MaxFiles int
	// MaxSize bounds the total uncompressed bytes of the regular files.
	MaxSize int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultMaxFiles
	}
	if l.MaxSize <= 0 {
		l.MaxSize = DefaultMaxSize
	}
	return l
}

// Extract reads a gzip tar from r and writes its entries under dir, which must exist and
// should be empty: an entry that already exists is an error, never overwritten.
//
// Only regular files and directories are accepted. Extract fails, naming the entry, on an
// absolute name, a ".." segment, a symlink, a hard link, a device, a fifo or any other type.
// Files are created with mode 0644 and directories with 0755 (less the umask), whatever the
// archive says. A file's declared size is checked against lim before any of it is read, so a
// decompression bomb stops at the limit without being inflated.
//
// Writes are confined to dir by an os.Root. On error, dir may hold part of the archive: the
// caller removes it (Fetcher.Fetch does).
func Extract(r io.Reader, dir string, lim Limits) error {
	return extract(r, dir, lim, "")
}

// maxReused bounds the files ExtractReusing compares with the base: larger ones are written.
const maxReused = 1 << 20

// ExtractReusing is Extract, except that a file whose content is the same as the file at the
// same path under base (an earlier extraction, which must not change while it runs) becomes a
// hard link to it instead of a new file: about 20 times cheaper to create, so extracting the
// next revision of a large source costs little more than what changed. Both trees must then be
// treated as read-only, and removing one leaves the other whole.
func ExtractReusing(r io.Reader, dir string, lim Limits, base string) error {
	return extract(r, dir, lim, base)
}

func extract(r io.Reader, dir string, lim Limits, base string) error {
	lim = lim.withDefaults()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("extracting: %w", err)
	}
	defer root.Close()
	var reuse *reuser
	if base != "" {
		if baseRoot, err := os.OpenRoot(base); err == nil {
			defer baseRoot.Close()
			reuse = &reuser{base: base, baseRoot: baseRoot, dir: dir}
		}
	}

	zr, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("extracting: not a gzip stream: %w", err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)

	var entries int
	var size int64
	made := map[string]bool{".": true} // directories known to exist, to skip repeated mkdirs
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil && !(errors.Is(err, tar.ErrInsecurePath) && hdr != nil) {
			return fmt.Errorf("extracting: reading archive: %w", err)
		}
		name, err := entryPath(hdr.Name)
		if err != nil {
			return fmt.Errorf("extracting entry %q: %w", hdr.Name, err)
		}
		if err := checkType(hdr); err != nil {
			return fmt.Errorf("extracting entry %q: %w", hdr.Name, err)
		}
		entries++
		if entries > lim.MaxFiles {
			return fmt.Errorf("extracting entry %q: more than %d entries", hdr.Name, lim.MaxFiles)
		}

		if hdr.Typeflag == tar.TypeDir {
			if hdr.Size != 0 { // tar.Reader ignores it, but no valid artifact has one
				return fmt.Errorf("extracting entry %q: directory with content", hdr.Name)
			}
			if name == "." {
				continue
			}
			if err := root.MkdirAll(name, DirMode); err != nil {
				return fmt.Errorf("extracting entry %q: %w", hdr.Name, err)
			}
			made[name] = true
			continue
		}

		if name == "." {
			return fmt.Errorf("extracting entry %q: a file cannot be the root", hdr.Name)
		}
		if hdr.Size < 0 || hdr.Size > lim.MaxSize-size {
			return fmt.Errorf("extracting entry %q: total size exceeds the limit of %d bytes", hdr.Name, lim.MaxSize)
		}
		if parent := path.Dir(name); !made[parent] {
			if err := root.MkdirAll(parent, DirMode); err != nil {
				return fmt.Errorf("extracting entry %q: %w", hdr.Name, err)
			}
			made[parent] = true
		}
		if reuse != nil && hdr.Size <= maxReused {
			err = reuse.write(root, name, tr, hdr.Size)
		} else {
			err = writeFile(root, name, tr, hdr.Size)
		}
		if err != nil {
			return fmt.Errorf("extracting entry %q: %w", hdr.Name, err)
		}
		size += hdr.Size
	}

	// Read to the end of the gzip stream so that its checksum is verified.
	n, err := io.Copy(io.Discard, io.LimitReader(zr, maxTrailing+1))
	if err != nil {
		return fmt.Errorf("extracting: %w", err)
	}
	if n > maxTrailing {
		return errors.New("extracting: unexpected data after the end of the archive")
	}
	return nil
}

// entryPath validates an entry name and returns it cleaned and relative ("." for the root).
func entryPath(name string) (string, error) {
	switch {
	case name == "":
		return "", errors.New("empty name")
	case strings.HasPrefix(name, "/"):
		return "", errors.New("absolute path")
	case strings.ContainsRune(name, 0):
		return "", errors.New("NUL in name")
	}
	for seg := range strings.SplitSeq(name, "/") {
		if seg == ".." {
			return "", errors.New("path contains \"..\"")
		}
	}
	return path.Clean(name), nil
}

// checkType accepts regular files and directories only.
func checkType(hdr *tar.Header) error {
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeDir:
		return nil
	case tar.TypeSymlink:
		return errors.New("symlinks are not allowed")
	case tar.TypeLink:
		return errors.New("hard links are not allowed")
	case tar.TypeChar, tar.TypeBlock:
		return errors.New("devices are not allowed")
	case tar.TypeFifo:
		return errors.New("fifos are not allowed")
	default:
		return fmt.Errorf("entry type %q is not allowed", hdr.Typeflag)
	}
}

// reuser links files unchanged since an earlier extraction.
type reuser struct {
	base     string
	baseRoot *os.Root
	dir      string
	buf, old []byte
}

// write reads the entry's size bytes and creates name as a link to base's file when that has
// the same content, or as a new file.
func (u *reuser) write(root *os.Root, name string, r io.Reader, size int64) error {
	u.buf = slices.Grow(u.buf[:0], int(size))[:size]
	if _, err := io.ReadFull(r, u.buf); err != nil {
		return err
	}
	if u.same(name) {
		// name is clean, relative and below dir, and every directory on its way was created
		// by this extraction; base holds only what an extraction wrote.
		if os.Link(filepath.Join(u.base, filepath.FromSlash(name)), filepath.Join(u.dir, filepath.FromSlash(name))) == nil {
			return nil
		}
	}
	return writeFile(root, name, bytes.NewReader(u.buf), size)
}

// same reports whether base holds a regular file at name with exactly u.buf's content.
func (u *reuser) same(name string) bool {
	f, err := u.baseRoot.Open(filepath.FromSlash(name))
	if err != nil {
		return false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != int64(len(u.buf)) {
		return false
	}
	u.old = slices.Grow(u.old[:0], len(u.buf))[:len(u.buf)]
	if _, err := io.ReadFull(f, u.old); err != nil {
		return false
	}
	return bytes.Equal(u.old, u.buf)
}

// writeFile creates name (which must not exist, in a directory that does) and copies exactly
// size bytes into it.
func writeFile(root *os.Root, name string, r io.Reader, size int64) error {
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, FileMode)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, io.LimitReader(r, size))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n != size {
		err = io.ErrUnexpectedEOF
	}
	return err
}
