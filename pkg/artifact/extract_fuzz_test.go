package artifact

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"testing"
)

// fuzzLimits are small, so the fuzzer reaches them quickly.
var fuzzLimits = Limits{MaxFiles: 32, MaxSize: 64 << 10}

// FuzzExtract feeds arbitrary bytes to Extract (and ExtractReusing, over an earlier tree) and
// checks, whatever it returns, that nothing was written outside the target directory, that the
// base tree is unchanged, and that the target holds only plain files and directories with
// fixed modes, within the limits. An archive it accepts must archive and extract again to the
// same tree.
func FuzzExtract(f *testing.F) {
	f.Add(makeTarGz(f, dir("a/"), file("a/b.yaml", "kind: ConfigMap\n"), file("c", "x")), false)
	f.Add(makeTarGz(f, file("./x/y/z", "deep"), file("x/other", "")), true)
	f.Add(makeTarGz(f, file("shared.txt", "same as the base"), file("new.txt", "new")), true)
	f.Add(makeTarGz(f, file("../escape", "evil")), false)
	f.Add(makeTarGz(f, file("/abs", "evil")), false)
	f.Add(makeTarGz(f, tarEntry{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: "link", Linkname: "../.."}}, file("link/x", "evil")), false)
	f.Add(makeTarGz(f, tarEntry{hdr: tar.Header{Typeflag: tar.TypeLink, Name: "hard", Linkname: "/etc/passwd"}}), true)
	f.Add(makeTarGz(f, file("a", "file"), file("a/b", "under a file")), false)
	f.Add(makeTarGz(f, file("dup", "1"), file("dup", "2")), true)
	f.Add(headerOnly(f, &tar.Header{Typeflag: tar.TypeReg, Name: "big", Size: 1 << 40}), false)
	f.Add([]byte("not gzip at all"), false)

	f.Fuzz(func(t *testing.T, data []byte, reuse bool) {
		parent := t.TempDir()
		target := filepath.Join(parent, "target")
		base := filepath.Join(parent, "base")
		must(t, os.Mkdir(target, 0o755))
		writeTree(t, base, map[string]string{"shared.txt": "same as the base", "x/other": "", "d/": ""})
		baseTree := readTree(t, base)
		canary := filepath.Join(parent, "canary")
		must(t, os.WriteFile(canary, []byte("untouched"), 0o644))

		var err error
		if reuse {
			err = ExtractReusing(bytes.NewReader(data), target, fuzzLimits, base)
		} else {
			err = Extract(bytes.NewReader(data), target, fuzzLimits)
		}

		// Outside the target: exactly what was there before.
		entries, rerr := os.ReadDir(parent)
		must(t, rerr)
		if len(entries) != 3 {
			t.Fatalf("the parent of the target holds %d entries after extraction, want 3", len(entries))
		}
		if b, rerr := os.ReadFile(canary); rerr != nil || string(b) != "untouched" {
			t.Fatalf("a file beside the target changed: %q, %v", b, rerr)
		}
		if got := readTree(t, base); !maps.Equal(got, baseTree) {
			t.Fatalf("the base tree changed: %v", got)
		}

		// Inside: only files and directories, with our modes, within the limits.
		var files int
		var size int64
		must(t, filepath.WalkDir(target, func(p string, d fs.DirEntry, err error) error {
			if err != nil || p == target {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			files++
			switch {
			case info.IsDir():
				if info.Mode().Perm()&^DirMode != 0 {
					t.Errorf("%s: directory mode %v", p, info.Mode())
				}
			case info.Mode().IsRegular():
				if info.Mode().Perm()&^FileMode != 0 {
					t.Errorf("%s: file mode %v", p, info.Mode())
				}
				size += info.Size()
			default:
				t.Errorf("%s: not a file or directory: %v", p, info.Mode())
			}
			return nil
		}))
		// Directories made for a file's parents are not entries, so allow for them.
		if files > fuzzLimits.MaxFiles*2 {
			t.Errorf("%d files and directories extracted, limit %d entries", files, fuzzLimits.MaxFiles)
		}
		if size > fuzzLimits.MaxSize {
			t.Errorf("%d bytes extracted, limit %d", size, fuzzLimits.MaxSize)
		}
		if err != nil {
			return
		}

		// Accepted: the tree survives a round trip through Archive and Extract.
		want := readTree(t, target)
		again := filepath.Join(parent, "again")
		must(t, os.Mkdir(again, 0o755))
		must(t, Extract(bytes.NewReader(archiveDir(t, target, ArchiveOptions{})), again, Limits{}))
		if got := readTree(t, again); !maps.Equal(got, want) {
			t.Errorf("round trip changed the tree:\n got %v\nwant %v", got, want)
		}
	})
}

// headerOnly returns a gzip tar of one header whose content is missing, as a truncated or
// lying archive is.
func headerOnly(t testing.TB, hdr *tar.Header) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	must(t, tar.NewWriter(zw).WriteHeader(hdr))
	must(t, zw.Close())
	return buf.Bytes()
}
