package chart

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	hchart "helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/ignore"
)

// Default limits.
const (
	// DefaultMaxSize bounds a chart archive and the total uncompressed size of its files,
	// subcharts included: 10 MiB.
	DefaultMaxSize int64 = 10 << 20
	// DefaultMaxFileSize bounds each file of a chart: 5 MiB.
	DefaultMaxFileSize int64 = 5 << 20
	// maxFiles bounds the number of files of a chart, subcharts included.
	maxFiles = 10_000
	// maxNesting bounds how deep subchart archives may nest.
	maxNesting = 8
)

// ErrLimit is wrapped by every error about a size or count limit.
var ErrLimit = errors.New("over the limit")

// Limits bound what a chart may hold. A zero field means its default.
type Limits struct {
	// MaxSize bounds the archive and the total uncompressed bytes of the chart's files.
	MaxSize int64
	// MaxFileSize bounds each file.
	MaxFileSize int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxSize <= 0 {
		l.MaxSize = DefaultMaxSize
	}
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = DefaultMaxFileSize
	}
	return l
}

// budget is what is left of the limits while one chart is read.
type budget struct {
	lim   Limits
	size  int64
	files int
}

func (b *budget) take(name string, size int64) error {
	if size > b.lim.MaxFileSize {
		return fmt.Errorf("file '%s' is %d bytes, %w of %d bytes per file", name, size, ErrLimit, b.lim.MaxFileSize)
	}
	if b.size+size > b.lim.MaxSize {
		return fmt.Errorf("chart is larger than %d bytes uncompressed (at file '%s'): %w", b.lim.MaxSize, name, ErrLimit)
	}
	if b.files++; b.files > maxFiles {
		return fmt.Errorf("chart has more than %d files: %w", maxFiles, ErrLimit)
	}
	b.size += size
	return nil
}

// LoadArchive loads a packaged chart (.tgz) within lim.
func LoadArchive(data []byte, lim Limits) (*hchart.Chart, error) {
	lim = lim.withDefaults()
	if int64(len(data)) > lim.MaxSize {
		return nil, fmt.Errorf("chart archive is %d bytes, %w of %d bytes", len(data), ErrLimit, lim.MaxSize)
	}
	b := &budget{lim: lim}
	files, err := readArchive(data, b, 0)
	if err != nil {
		return nil, err
	}
	return load(files)
}

// readArchive reads the files of a chart archive, relative to its top directory, expanding
// subchart archives in charts/ into directories.
func readArchive(data []byte, b *budget, depth int) ([]*loader.BufferedFile, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, errors.New("chart archive is not gzip-compressed")
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	var files []*loader.BufferedFile
	top := ""
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil && !(errors.Is(err, tar.ErrInsecurePath) && hdr != nil) {
			return nil, fmt.Errorf("chart archive is not a valid tar: %w", err)
		}
		switch hdr.Typeflag {
		case tar.TypeXGlobalHeader:
			continue
		case tar.TypeDir:
			if _, err := entryName(hdr.Name); err != nil {
				return nil, err
			}
			continue
		case tar.TypeReg:
		default:
			return nil, fmt.Errorf("chart archive entry '%s' is not a regular file or directory", printable(hdr.Name))
		}
		name, err := entryName(hdr.Name)
		if err != nil {
			return nil, err
		}
		dir, rel, ok := strings.Cut(name, "/")
		if !ok {
			return nil, fmt.Errorf("chart archive entry '%s' is not inside the chart's directory", printable(hdr.Name))
		}
		if top == "" {
			top = dir
		} else if dir != top {
			return nil, fmt.Errorf("chart archive has more than one top directory ('%s' and '%s')", printable(top), printable(dir))
		}
		if err := b.take(name, hdr.Size); err != nil {
			return nil, err
		}
		content, err := io.ReadAll(io.LimitReader(tr, hdr.Size))
		if err != nil || int64(len(content)) != hdr.Size {
			return nil, fmt.Errorf("chart archive entry '%s' is truncated", printable(hdr.Name))
		}
		files = append(files, &loader.BufferedFile{Name: rel, Data: content})
	}
	if len(files) == 0 {
		return nil, errors.New("chart archive holds no files")
	}
	return expandSubchartArchives(files, b, depth)
}

// expandSubchartArchives replaces every charts/<name>.tgz with the files it holds, as
// charts/<name>/..., within the same budget, so that subcharts obey the same limits and
// path rules as their parent.
func expandSubchartArchives(files []*loader.BufferedFile, b *budget, depth int) ([]*loader.BufferedFile, error) {
	out := make([]*loader.BufferedFile, 0, len(files))
	seen := map[string]bool{}
	for _, f := range files {
		seen[f.Name] = true
	}
	for _, f := range files {
		dir, base := path.Split(f.Name)
		if path.Base(dir) != "charts" || !strings.HasSuffix(base, ".tgz") || strings.HasPrefix(base, "_") || strings.HasPrefix(base, ".") {
			out = append(out, f)
			continue
		}
		if depth >= maxNesting {
			return nil, fmt.Errorf("subchart archives nest deeper than %d levels at '%s': %w", maxNesting, f.Name, ErrLimit)
		}
		sub, err := readArchive(f.Data, b, depth+1)
		if err != nil {
			return nil, fmt.Errorf("subchart '%s': %w", f.Name, err)
		}
		prefix := dir + strings.TrimSuffix(base, ".tgz") + "/"
		for _, sf := range sub {
			n := prefix + sf.Name
			if seen[n] {
				return nil, fmt.Errorf("subchart '%s' conflicts with file '%s'", f.Name, n)
			}
			seen[n] = true
			out = append(out, &loader.BufferedFile{Name: n, Data: sf.Data})
		}
	}
	return out, nil
}

// entryName validates an archive entry's name: relative, no `..` segment, no NUL or
// backslash. It returns the cleaned name.
func entryName(name string) (string, error) {
	p := printable(name)
	switch {
	case name == "":
		return "", errors.New("chart archive has an entry without a name")
	case strings.HasPrefix(name, "/") || filepath.IsAbs(name) || (len(name) > 1 && name[1] == ':'):
		return "", fmt.Errorf("chart archive entry '%s' has an absolute path", p)
	case strings.ContainsAny(name, "\x00\\"):
		return "", fmt.Errorf("chart archive entry '%s' has a NUL or backslash in its name", p)
	}
	for seg := range strings.SplitSeq(name, "/") {
		if seg == ".." {
			return "", fmt.Errorf("chart archive entry '%s' has a '..' path segment", p)
		}
	}
	return path.Clean(name), nil
}

// printable shortens a name and replaces control characters, for messages.
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// LoadDir loads the chart in dir within lim, leaving out what its .helmignore (and Helm's
// defaults) exclude. Every file must be a regular file.
func LoadDir(dir string, lim Limits) (*hchart.Chart, error) {
	b := &budget{lim: lim.withDefaults()}
	rules := ignore.Empty()
	if data, err := os.ReadFile(filepath.Join(dir, ignore.HelmIgnore)); err == nil {
		if err := b.take(ignore.HelmIgnore, int64(len(data))); err != nil {
			return nil, err
		}
		if rules, err = ignore.Parse(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("%s: %w", ignore.HelmIgnore, err)
		}
	}
	rules.AddDefaults()
	var files []*loader.BufferedFile
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if rules.Ignore(rel, fi) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("chart file '%s' is not a regular file", rel)
		}
		if err := b.take(rel, fi.Size()); err != nil {
			return err
		}
		data, err := readFileLimited(p, b.lim.MaxFileSize)
		if err != nil {
			return fmt.Errorf("chart file '%s': %w", rel, err)
		}
		files = append(files, &loader.BufferedFile{Name: rel, Data: data})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if files, err = expandSubchartArchives(files, b, 0); err != nil {
		return nil, err
	}
	return load(files)
}

// readFileLimited reads at most max bytes of the file at p.
func readFileLimited(p string, max int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("larger than %d bytes: %w", max, ErrLimit)
	}
	return data, nil
}

// load builds the chart from its files and checks the names of the chart and its subcharts.
func load(files []*loader.BufferedFile) (*hchart.Chart, error) {
	for _, f := range files {
		f.Data = bytes.TrimPrefix(f.Data, []byte("\xEF\xBB\xBF"))
	}
	ch, err := loader.LoadFiles(files)
	if err != nil {
		return nil, fmt.Errorf("loading chart: %s", printable(err.Error()))
	}
	if err := checkNames(ch); err != nil {
		return nil, err
	}
	return ch, nil
}

func checkNames(ch *hchart.Chart) error {
	if err := ValidateName(ch.Name()); err != nil {
		return fmt.Errorf("Chart.yaml: %w", err)
	}
	for _, dep := range ch.Dependencies() {
		if err := checkNames(dep); err != nil {
			return fmt.Errorf("subchart of '%s': %w", ch.Name(), err)
		}
	}
	return nil
}

// ValidateName accepts a chart name that is safe as one path segment: not empty, not `.` or
// `..`, without `/`, `\`, NUL or control characters, at most 250 bytes.
func ValidateName(name string) error {
	switch {
	case name == "":
		return errors.New("chart name is empty")
	case name == "." || name == "..":
		return fmt.Errorf("chart name '%s' is not allowed", name)
	case len(name) > 250:
		return errors.New("chart name is longer than 250 bytes")
	case strings.ContainsAny(name, "/\\"):
		return fmt.Errorf("chart name '%s' must not contain '/' or '\\'", printable(name))
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("chart name '%s' has control characters", printable(name))
	}
	return nil
}
