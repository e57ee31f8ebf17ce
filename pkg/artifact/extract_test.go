package artifact

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestExtractRejectsUnsafeEntries(t *testing.T) {
	hdr := func(typ byte, name, link string) tarEntry {
		return tarEntry{hdr: tar.Header{Typeflag: typ, Name: name, Linkname: link, Mode: 0o644}}
	}
	tests := []struct {
		name  string
		entry tarEntry
		want  string
	}{
		{"absolute", file("/etc/evil", "x"), `"/etc/evil": absolute path`},
		{"parent", file("../x", "x"), `"../x": path contains ".."`},
		{"escape after a dir", file("a/../../x", "x"), `"a/../../x": path contains ".."`},
		{"dotdot inside", file("a/../b", "x"), `"a/../b": path contains ".."`},
		{"dotdot dir", dir("../up/"), `"../up/": path contains ".."`},
		{"symlink", hdr(tar.TypeSymlink, "link", "/etc/passwd"), `"link": symlinks are not allowed`},
		{"relative symlink", hdr(tar.TypeSymlink, "link", "../../x"), `"link": symlinks are not allowed`},
		{"hard link", hdr(tar.TypeLink, "hl", "ok.yaml"), `"hl": hard links are not allowed`},
		{"char device", hdr(tar.TypeChar, "null", ""), `"null": devices are not allowed`},
		{"block device", hdr(tar.TypeBlock, "sda", ""), `"sda": devices are not allowed`},
		{"fifo", hdr(tar.TypeFifo, "pipe", ""), `"pipe": fifos are not allowed`},
		{"contiguous file", hdr(tar.TypeCont, "c", ""), `"c": entry type '7' is not allowed`},
		{"global header", tarEntry{hdr: tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "g",
			PAXRecords: map[string]string{"comment": "x"}}}, `"g": entry type 'g' is not allowed`},
		{"file as the root", file(".", "x"), `".": a file cannot be the root`},
		{"duplicate", file("ok.yaml", "again"), `"ok.yaml": openat ok.yaml: file exists`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			dst := filepath.Join(base, "a", "b", "dst")
			must(t, os.MkdirAll(dst, 0o755))
			b := makeTarGz(t, file("ok.yaml", "ok"), tc.entry, file("after.yaml", "after"))

			err := Extract(bytes.NewReader(b), dst, Limits{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %s", err, tc.want)
			}
			// Nothing was written outside dst, and nothing after the bad entry.
			if got := readTree(t, base); len(got) != 4 || got["a/b/dst/ok.yaml"] != "ok" {
				t.Errorf("tree after the error: %q", got)
			}
		})
	}
}

func TestExtractAcceptsOtherWriters(t *testing.T) {
	// tar -C dir . writes "./" prefixes and may omit parent directory entries.
	b := makeTarGz(t, dir("./"), file("./a.yaml", "a"), file("./x/y//z.yaml", "z"), dir("./x/w"))
	dst := t.TempDir()
	must(t, Extract(bytes.NewReader(b), dst, Limits{}))
	got := readTree(t, dst)
	want := map[string]string{"a.yaml": "a", "x/": "", "x/y/": "", "x/y/z.yaml": "z", "x/w/": ""}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
}

func TestExtractMasksModes(t *testing.T) {
	b := makeTarGz(t,
		tarEntry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "d/", Mode: 0o7777}},
		tarEntry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "d/suid", Mode: 0o6777}, body: "#!/bin/sh\n"},
	)
	dst := t.TempDir()
	must(t, Extract(bytes.NewReader(b), dst, Limits{}))
	for name, max := range map[string]os.FileMode{"d": os.ModeDir | 0o755, "d/suid": 0o644} {
		fi, err := os.Stat(filepath.Join(dst, name))
		must(t, err)
		if extra := fi.Mode() &^ max; extra != 0 {
			t.Errorf("%s: mode %v has bits beyond %v", name, fi.Mode(), max)
		}
	}
}

func TestExtractLimits(t *testing.T) {
	var entries []tarEntry
	for i := range 10 {
		entries = append(entries, file(string(rune('a'+i))+".yaml", strings.Repeat("x", 1000)))
	}
	b := makeTarGz(t, entries...)

	must(t, Extract(bytes.NewReader(b), t.TempDir(), Limits{MaxFiles: 10, MaxSize: 10_000}))

	dst := t.TempDir()
	err := Extract(bytes.NewReader(b), dst, Limits{MaxFiles: 5})
	if err == nil || !strings.Contains(err.Error(), `"f.yaml": more than 5 entries`) {
		t.Errorf("MaxFiles: got %v", err)
	}
	if n := len(readTree(t, dst)); n != 5 {
		t.Errorf("MaxFiles: %d files written, want 5", n)
	}

	dst = t.TempDir()
	err = Extract(bytes.NewReader(b), dst, Limits{MaxSize: 2500})
	if err == nil || !strings.Contains(err.Error(), `"c.yaml": total size exceeds the limit of 2500 bytes`) {
		t.Errorf("MaxSize: got %v", err)
	}
	if n := len(readTree(t, dst)); n != 2 {
		t.Errorf("MaxSize: %d files written, want 2", n)
	}
}

// bomb streams a gzip tar of files of fileSize zero bytes each, totalling total bytes,
// compressing on the fly. It returns the reader and a counter of uncompressed bytes produced.
func bomb(t *testing.T, fileSize, total int64) (*io.PipeReader, *atomic.Int64) {
	pr, pw := io.Pipe()
	var produced atomic.Int64
	go func() {
		zw, _ := gzip.NewWriterLevel(pw, gzip.BestSpeed)
		tw := tar.NewWriter(zw)
		zeros := make([]byte, 1<<20)
		for i := int64(0); i*fileSize < total; i++ {
			h := &tar.Header{Typeflag: tar.TypeReg, Name: fmt.Sprintf("zeros/%06d", i), Mode: 0o644, Size: fileSize}
			if err := tw.WriteHeader(h); err != nil {
				pw.CloseWithError(err)
				return
			}
			for left := fileSize; left > 0; {
				n := min(left, int64(len(zeros)))
				if _, err := tw.Write(zeros[:n]); err != nil {
					pw.CloseWithError(err)
					return
				}
				produced.Add(n)
				left -= n
			}
		}
		tw.Close()
		zw.Close()
		pw.Close()
	}()
	t.Cleanup(func() { pr.CloseWithError(io.ErrClosedPipe) })
	return pr, &produced
}

func TestExtractStopsGzipBombs(t *testing.T) {
	const total = 2 << 30 // 2 GiB of zeros
	tests := []struct {
		name     string
		fileSize int64
		lim      Limits
		want     string
	}{
		// One entry declaring 2 GiB: refused from its header under the default 1 GiB limit.
		{"one huge file", total, Limits{}, "total size exceeds the limit of 1073741824 bytes"},
		// 1 MiB files: the 17th crosses 16 MiB.
		{"many files", 1 << 20, Limits{MaxSize: 16 << 20}, "total size exceeds the limit of 16777216 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, produced := bomb(t, tc.fileSize, total)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			err := Extract(r, t.TempDir(), tc.lim)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)

			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if elapsed > 20*time.Second {
				t.Errorf("took %v to stop", elapsed)
			}
			// The producer runs at most a pipe write and a gzip window ahead of the reader.
			if p := produced.Load(); p > 64<<20 {
				t.Errorf("%d MiB inflated before stopping", p>>20)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
		})
	}
}

func TestExtractRejectsCorruptStreams(t *testing.T) {
	good := makeTarGz(t, file("a.yaml", "a: 1\n"))

	corrupt := bytes.Clone(good)
	corrupt[len(corrupt)-8] ^= 0xff // the gzip CRC-32
	trailing := func() []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		tw := tar.NewWriter(zw)
		must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "a", Mode: 0o644, Size: 1}))
		tw.Write([]byte("a"))
		must(t, tw.Close())
		zw.Write(bytes.Repeat([]byte{0}, 1<<20))
		must(t, zw.Close())
		return buf.Bytes()
	}()

	tests := map[string]struct {
		data []byte
		want string
	}{
		"not gzip":      {[]byte("plain text, not an archive"), "not a gzip stream"},
		"bad checksum":  {corrupt, "checksum"},
		"trailing data": {trailing, "unexpected data after the end of the archive"},
		"truncated":     {good[:len(good)/2], "unexpected EOF"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := Extract(bytes.NewReader(tc.data), t.TempDir(), Limits{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
	if err := Extract(bytes.NewReader(good), filepath.Join(t.TempDir(), "missing"), Limits{}); err == nil {
		t.Error("extracting into a missing directory succeeded")
	}
}

// TestExtractReusing: files unchanged since the base extraction are hard links to it, the
// others new files; the result is what Extract writes, and the base is left as it was.
func TestExtractReusing(t *testing.T) {
	oldTree := map[string]string{"a.yaml": "same", "b.yaml": "old", "gone.yaml": "x", "d/e.yaml": "same too"}
	newTree := map[string]string{"a.yaml": "same", "b.yaml": "new", "d/e.yaml": "same too", "d/f.yaml": "added", "b2.yaml": "old"}
	archive := func(files map[string]string) []byte {
		src := t.TempDir()
		writeTree(t, src, files)
		return archiveDir(t, src, ArchiveOptions{})
	}
	base := t.TempDir()
	must(t, Extract(bytes.NewReader(archive(oldTree)), base, Limits{}))
	dir := t.TempDir()
	must(t, ExtractReusing(bytes.NewReader(archive(newTree)), dir, Limits{}, base))

	plain := t.TempDir()
	must(t, Extract(bytes.NewReader(archive(newTree)), plain, Limits{}))
	if got, want := readTree(t, dir), readTree(t, plain); !maps.Equal(got, want) {
		t.Fatalf("reusing extraction %q\nplain extraction %q", got, want)
	}
	if got := readTree(t, base); got["b.yaml"] != "old" || got["gone.yaml"] != "x" {
		t.Errorf("the base changed: %q", got)
	}
	linked := func(name string) bool {
		a, err1 := os.Stat(filepath.Join(base, name))
		b, err2 := os.Stat(filepath.Join(dir, name))
		return err1 == nil && err2 == nil && os.SameFile(a, b)
	}
	for name, want := range map[string]bool{"a.yaml": true, "d/e.yaml": true, "b.yaml": false} {
		if linked(name) != want {
			t.Errorf("%s linked to the base: %v, want %v", name, !want, want)
		}
	}
	// A base that is gone is no error: everything is written.
	again := t.TempDir()
	must(t, ExtractReusing(bytes.NewReader(archive(newTree)), again, Limits{}, filepath.Join(base, "nowhere")))
	if got := readTree(t, again); !maps.Equal(got, readTree(t, plain)) {
		t.Errorf("without a base: %q", got)
	}
}
