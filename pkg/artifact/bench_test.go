package artifact

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// benchTree writes 10,000 small YAML files in 100 directories and returns their total size.
func benchTree(b *testing.B) (string, int64) {
	b.Helper()
	dir := b.TempDir()
	var total int64
	for d := range 100 {
		sub := filepath.Join(dir, fmt.Sprintf("app-%03d", d))
		must(b, os.Mkdir(sub, 0o755))
		for f := range 100 {
			body := fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: app-%03d-config-%03d
  namespace: team-%d
  labels:
    app.kubernetes.io/name: app-%03d
data:
  key: value-%d-%d
  other: "some longer configuration value to look like a real manifest"
`, d, f, d%7, d, d, f)
			must(b, os.WriteFile(filepath.Join(sub, fmt.Sprintf("cm-%03d.yaml", f)), []byte(body), 0o644))
			total += int64(len(body))
		}
	}
	return dir, total
}

func BenchmarkArchive10kFiles(b *testing.B) {
	dir, total := benchTree(b)
	var size int64
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		cw := &countingWriter{}
		if _, err := Archive(cw, dir, ArchiveOptions{}); err != nil {
			b.Fatal(err)
		}
		size = cw.n
	}
	b.ReportMetric(float64(size)/(1<<20), "MiB-archive")
}

func BenchmarkExtract10kFiles(b *testing.B) {
	src, total := benchTree(b)
	var buf bytes.Buffer
	if _, err := Archive(&buf, src, ArchiveOptions{}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	parent := b.TempDir()
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		dst := filepath.Join(parent, fmt.Sprint(i))
		if err := os.Mkdir(dst, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := Extract(bytes.NewReader(data), dst, Limits{}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.RemoveAll(dst)
		b.StartTimer()
	}
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

var _ io.Writer = (*countingWriter)(nil)

// BenchmarkExtractReusing10kFiles is the next revision of the same tree, one file changed:
// the rest are hard links to the last extraction.
func BenchmarkExtractReusing10kFiles(b *testing.B) {
	src, total := benchTree(b)
	var buf bytes.Buffer
	if _, err := Archive(&buf, src, ArchiveOptions{}); err != nil {
		b.Fatal(err)
	}
	parent := b.TempDir()
	base := filepath.Join(parent, "base")
	must(b, os.Mkdir(base, 0o755))
	must(b, Extract(bytes.NewReader(buf.Bytes()), base, Limits{}))
	must(b, os.WriteFile(filepath.Join(src, "app-050", "cm-000.yaml"), []byte("changed\n"), 0o644))
	buf.Reset()
	if _, err := Archive(&buf, src, ArchiveOptions{}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(total)
	b.ResetTimer()
	for i := range b.N {
		dst := filepath.Join(parent, fmt.Sprint(i))
		must(b, os.Mkdir(dst, 0o755))
		if err := ExtractReusing(bytes.NewReader(data), dst, Limits{}, base); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.RemoveAll(dst)
		b.StartTimer()
	}
}
