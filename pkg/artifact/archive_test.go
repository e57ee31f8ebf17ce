package artifact

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

var sampleTree = map[string]string{
	"kustomization.yaml":              "resources:\n- deploy.yaml\n",
	"deploy.yaml":                     "kind: Deployment\n",
	"apps/a/config.yaml":              "a: 1\n",
	"apps/a.yaml":                     "a-dot: 1\n",
	"apps/b/nested/deep/x.yaml":       "x: true\n",
	"apps/empty.yaml":                 "",
	"empty-dir/":                      "",
	"unicodé/ファイル.yaml":               "u: 1\n",
	strings.Repeat("long/", 55) + "f": "a path beyond what USTAR can name\n",
}

func TestArchiveIsDeterministic(t *testing.T) {
	first := t.TempDir()
	writeTree(t, first, sampleTree)
	want := archiveDir(t, first, ArchiveOptions{})
	if again := archiveDir(t, first, ArchiveOptions{}); !bytes.Equal(want, again) {
		t.Fatal("archiving the same directory twice gave different bytes")
	}

	// The same tree written in the opposite order, with other modes and mtimes.
	second := t.TempDir()
	keys := slices.Sorted(maps.Keys(sampleTree))
	slices.Reverse(keys)
	for i, name := range keys {
		p := filepath.Join(second, filepath.FromSlash(name))
		must(t, os.MkdirAll(filepath.Dir(p), 0o700))
		if strings.HasSuffix(name, "/") {
			must(t, os.MkdirAll(p, 0o711))
			continue
		}
		mode := []os.FileMode{0o600, 0o755, 0o640}[i%3]
		must(t, os.WriteFile(p, []byte(sampleTree[name]), mode))
		must(t, os.Chmod(p, mode))
		mtime := time.Date(2001+i, 2, 3, 4, 5, 6, 7, time.UTC)
		must(t, os.Chtimes(p, mtime, mtime))
	}
	if got := archiveDir(t, second, ArchiveOptions{}); !bytes.Equal(want, got) {
		t.Fatal("the same tree with other modes, mtimes and creation order gave different bytes")
	}

	d1, _, _ := Digest(bytes.NewReader(want))
	sampleTreeChanged := maps.Clone(sampleTree)
	sampleTreeChanged["deploy.yaml"] = "kind: StatefulSet\n"
	third := t.TempDir()
	writeTree(t, third, sampleTreeChanged)
	d3, _, _ := Digest(bytes.NewReader(archiveDir(t, third, ArchiveOptions{})))
	if d1 == d3 {
		t.Fatal("different content gave the same digest")
	}
}

func TestArchiveHeaders(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, sampleTree)
	must(t, os.Chmod(filepath.Join(src, "deploy.yaml"), 0o4755))
	b := archiveDir(t, src, ArchiveOptions{})

	zr, err := gzip.NewReader(bytes.NewReader(b))
	must(t, err)
	if zr.Name != "" || zr.Comment != "" || !zr.ModTime.IsZero() || zr.Extra != nil {
		t.Errorf("gzip header carries name %q, comment %q, mtime %v, extra %q", zr.Name, zr.Comment, zr.ModTime, zr.Extra)
	}

	hdrs := listEntries(t, b)
	var paxNames []string
	for _, h := range hdrs {
		wantMode := int64(FileMode)
		if h.Typeflag == tar.TypeDir {
			wantMode = DirMode
			if !strings.HasSuffix(h.Name, "/") {
				t.Errorf("%s: directory name without trailing slash", h.Name)
			}
		} else if h.Typeflag != tar.TypeReg {
			t.Errorf("%s: type %q", h.Name, h.Typeflag)
		}
		if h.Mode != wantMode {
			t.Errorf("%s: mode %o, want %o", h.Name, h.Mode, wantMode)
		}
		if !h.ModTime.Equal(time.Unix(0, 0)) || !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() {
			t.Errorf("%s: times %v %v %v", h.Name, h.ModTime, h.AccessTime, h.ChangeTime)
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: owner %d/%d %q/%q", h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		if strings.HasPrefix(h.Name, "/") || strings.HasPrefix(h.Name, "./") || strings.Contains(h.Name, "..") {
			t.Errorf("%s: not a clean relative name", h.Name)
		}
		switch {
		case h.Format == tar.FormatUSTAR && len(h.PAXRecords) == 0:
		case h.Format == tar.FormatPAX && maps.Equal(h.PAXRecords, map[string]string{"path": h.Name}):
			paxNames = append(paxNames, h.Name)
		default:
			t.Errorf("%s: format %v with PAX records %v", h.Name, h.Format, h.PAXRecords)
		}
	}
	// USTAR holds ASCII names of up to 256 bytes (split at a slash); others need a PAX path.
	for _, h := range hdrs {
		ascii := strings.IndexFunc(h.Name, func(r rune) bool { return r > 127 }) < 0
		if wantPAX := !ascii || len(h.Name) > 256; wantPAX != slices.Contains(paxNames, h.Name) {
			t.Errorf("%s: PAX header %v, want %v", h.Name, !wantPAX, wantPAX)
		}
	}
	if len(paxNames) < 3 {
		t.Errorf("the sample tree should exercise PAX names, got %q", paxNames)
	}

	got := names(hdrs)
	want := []string{
		"apps/", "apps/a/", "apps/a/config.yaml", "apps/a.yaml", "apps/b/", "apps/b/nested/",
		"apps/b/nested/deep/", "apps/b/nested/deep/x.yaml", "apps/empty.yaml",
		"deploy.yaml", "empty-dir/", "kustomization.yaml",
	}
	if !slices.Equal(got[:len(want)], want) {
		t.Errorf("entries in order:\n got %q\nwant %q (then long/ and unicodé/)", got[:len(want)], want)
	}
}

func TestArchiveRoundTrip(t *testing.T) {
	src := t.TempDir()
	tree := maps.Clone(sampleTree)
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i * 7 % 251)
	}
	tree["charts/big.bin"] = string(big)
	writeTree(t, src, tree)

	b := archiveDir(t, src, ArchiveOptions{})
	dst := t.TempDir()
	must(t, Extract(bytes.NewReader(b), dst, Limits{}))

	got, want := readTree(t, dst), readTree(t, src)
	if !maps.Equal(got, want) {
		t.Errorf("extracted tree differs:\n got %q\nwant %q", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
}

func TestArchiveFilter(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, map[string]string{
		".git/config":        "secret remote",
		".git/objects/ab/cd": "blob",
		"README.md":          "docs",
		"docs/guide.md":      "docs",
		"app.yaml":           "kind: Pod\n",
	})
	var seen []string
	var warns []string
	stats, err := Archive(&bytes.Buffer{}, src, ArchiveOptions{
		Filter: func(p string, isDir bool) bool {
			seen = append(seen, p)
			if p == ".git" && !isDir {
				t.Errorf(".git offered as a file")
			}
			return p != ".git" && !strings.HasSuffix(p, ".md")
		},
		Warn: func(msg string) { warns = append(warns, msg) },
	})
	must(t, err)
	b := archiveDir(t, src, ArchiveOptions{Filter: func(p string, _ bool) bool {
		return p != ".git" && !strings.HasSuffix(p, ".md")
	}})
	if got, want := names(listEntries(t, b)), []string{"app.yaml", "docs/"}; !slices.Equal(got, want) {
		t.Errorf("entries %q, want %q", got, want)
	}
	if slices.Contains(seen, ".git/config") {
		t.Error("Filter was asked about an entry under a directory it left out")
	}
	if stats.Files != 1 || stats.Dirs != 1 || stats.Size != int64(len("kind: Pod\n")) {
		t.Errorf("stats %+v", stats)
	}
	if len(warns) != 0 {
		t.Errorf("filtered entries were warned about: %q", warns)
	}
}

func TestArchiveSymlinks(t *testing.T) {
	base := t.TempDir()
	const secret = "TOP-SECRET-outside-the-root-4b1d"
	must(t, os.WriteFile(filepath.Join(base, "outside"), []byte(secret), 0o644))
	must(t, os.MkdirAll(filepath.Join(base, "outside-dir"), 0o755))
	must(t, os.WriteFile(filepath.Join(base, "outside-dir", "s.yaml"), []byte(secret), 0o644))
	src := filepath.Join(base, "repo", "root")
	writeTree(t, src, map[string]string{
		"real.yaml":        "real content\n",
		"base/svc.yaml":    "kind: Service\n",
		"base/sub/x.yaml":  "x\n",
		"overlay/kus.yaml": "resources: [base]\n",
	})
	link := func(target, name string) {
		must(t, os.Symlink(target, filepath.Join(src, filepath.FromSlash(name))))
	}
	link("real.yaml", "rel.yaml")                                // relative, inside
	link(filepath.Join(src, "real.yaml"), "abs.yaml")            // absolute, inside
	link("rel.yaml", "chain.yaml")                               // chain of links, inside
	link("../base", "overlay/base")                              // directory inside: stored as a tree
	link("/etc/passwd", "passwd")                                // absolute, outside
	link("../../outside", "escape")                              // relative, outside
	link("../../outside-dir", "escape-dir")                      // directory outside
	link("missing", "dangling")                                  // dangling
	link("loop-b", "loop-a")                                     // loop
	link("loop-a", "loop-b")                                     //
	link("..", "base/sub/up")                                    // an ancestor: would recurse forever
	link(".", "self")                                            // the root itself
	link("../base/sub", "overlay/sub")                           // holds base/sub/up: loops too
	link(filepath.Join(base, "repo", "root", "..", ".."), "top") // absolute, above the root

	var warns []string
	b := archiveDir(t, src, ArchiveOptions{Warn: func(m string) { warns = append(warns, m) }})

	dst := t.TempDir()
	must(t, Extract(bytes.NewReader(b), dst, Limits{}))
	got := readTree(t, dst)
	want := map[string]string{
		"real.yaml":               "real content\n",
		"rel.yaml":                "real content\n",
		"abs.yaml":                "real content\n",
		"chain.yaml":              "real content\n",
		"base/":                   "",
		"base/svc.yaml":           "kind: Service\n",
		"base/sub/":               "",
		"base/sub/x.yaml":         "x\n",
		"overlay/":                "",
		"overlay/kus.yaml":        "resources: [base]\n",
		"overlay/base/":           "",
		"overlay/base/svc.yaml":   "kind: Service\n",
		"overlay/base/sub/":       "",
		"overlay/base/sub/x.yaml": "x\n",
		"overlay/sub/":            "",
		"overlay/sub/x.yaml":      "x\n",
	}
	if !maps.Equal(got, want) {
		t.Errorf("archived tree:\n got %q\nwant %q", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}

	raw := gunzip(t, b)
	if bytes.Contains(raw, []byte(secret)) {
		t.Error("content from outside the root is in the archive")
	}
	if passwd, err := os.ReadFile("/etc/passwd"); err == nil && len(passwd) > 0 {
		firstLine, _, _ := bytes.Cut(passwd, []byte("\n"))
		if bytes.Contains(raw, firstLine) {
			t.Error("/etc/passwd content is in the archive")
		}
	}

	dropped := []string{"passwd", "escape", "escape-dir", "dangling", "loop-a", "loop-b",
		"base/sub/up", "overlay/base/sub/up", "overlay/sub/up", "self", "top"}
	if len(warns) != len(dropped) {
		t.Errorf("got %d warnings, want %d: %q", len(warns), len(dropped), warns)
	}
	for _, name := range dropped {
		if !slices.ContainsFunc(warns, func(w string) bool { return strings.HasPrefix(w, "skipped "+name+":") }) {
			t.Errorf("no warning names %s: %q", name, warns)
		}
	}
	for _, w := range warns {
		if strings.Contains(w, "/etc") || strings.Contains(w, "outside-dir") || strings.Contains(w, base) {
			t.Errorf("warning reveals a link target: %q", w)
		}
	}
}

func TestArchiveDropsSpecialFiles(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, map[string]string{"ok.yaml": "ok\n"})
	must(t, syscall.Mkfifo(filepath.Join(src, "fifo"), 0o644))
	dropped := []string{"fifo"}
	if l, err := net.Listen("unix", filepath.Join(src, "sock")); err == nil {
		defer l.Close()
		dropped = append(dropped, "sock")
	} else {
		t.Logf("no unix socket: %v", err)
	}
	if err := syscall.Mknod(filepath.Join(src, "null"), syscall.S_IFCHR|0o666, 0x103); err == nil {
		dropped = append(dropped, "null")
	} else {
		t.Logf("no device node (needs CAP_MKNOD): %v", err)
	}

	var warns []string
	var buf bytes.Buffer
	done := make(chan error)
	go func() { // a fifo opened for reading would block: prove Archive never opens it
		_, err := Archive(&buf, src, ArchiveOptions{Warn: func(m string) { warns = append(warns, m) }})
		done <- err
	}()
	select {
	case err := <-done:
		must(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Archive blocked on a special file")
	}
	b := buf.Bytes()
	if got := names(listEntries(t, b)); !slices.Equal(got, []string{"ok.yaml"}) {
		t.Errorf("entries %q", got)
	}
	for _, name := range dropped {
		if !slices.ContainsFunc(warns, func(w string) bool { return strings.HasPrefix(w, "skipped "+name+":") }) {
			t.Errorf("no warning names %s: %q", name, warns)
		}
	}
}

func TestArchiveLimits(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, map[string]string{"a": "1234", "b": "1234", "c/d": "1234"})

	if _, err := Archive(&bytes.Buffer{}, src, ArchiveOptions{MaxFiles: 4}); err != nil {
		t.Errorf("4 entries within MaxFiles 4: %v", err)
	}
	_, err := Archive(&bytes.Buffer{}, src, ArchiveOptions{MaxFiles: 3})
	if err == nil || !strings.Contains(err.Error(), "c/d: more than 3 entries") {
		t.Errorf("MaxFiles 3: got %v", err)
	}
	if _, err := Archive(&bytes.Buffer{}, src, ArchiveOptions{MaxSize: 12}); err != nil {
		t.Errorf("12 bytes within MaxSize 12: %v", err)
	}
	_, err = Archive(&bytes.Buffer{}, src, ArchiveOptions{MaxSize: 11})
	if err == nil || !strings.Contains(err.Error(), "c/d: total size exceeds the limit of 11 bytes") {
		t.Errorf("MaxSize 11: got %v", err)
	}
	if _, err := Archive(&bytes.Buffer{}, filepath.Join(src, "missing"), ArchiveOptions{}); err == nil {
		t.Error("archiving a missing directory succeeded")
	}
}
