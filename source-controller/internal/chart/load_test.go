package chart

import (
	"archive/tar"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weir.dev/source-controller/internal/helmtest"
)

func chartYAML(name string) helmtest.Entry {
	return helmtest.Entry{Name: name + "/Chart.yaml", Body: helmtest.ChartYAML(name, "1.0.0")}
}

// TestLoadArchiveRejectsHostileArchives: each hostile archive fails with a message naming the
// entry or limit at fault, without inflating more than the limits.
func TestLoadArchiveRejectsHostileArchives(t *testing.T) {
	lim := Limits{MaxSize: 1 << 20, MaxFileSize: 512 << 10}
	cases := []struct {
		name    string
		entries []helmtest.Entry
		want    string
		limit   bool
	}{
		{"parent entry", []helmtest.Entry{chartYAML("app"), {Name: "app/../../evil.yaml", Body: "x"}}, "'app/../../evil.yaml' has a '..' path segment", false},
		{"absolute path", []helmtest.Entry{chartYAML("app"), {Name: "/etc/evil.yaml", Body: "x"}}, "'/etc/evil.yaml' has an absolute path", false},
		{"symlink", []helmtest.Entry{chartYAML("app"), {Name: "app/passwd", Type: tar.TypeSymlink, Linkname: "/etc/passwd"}}, "'app/passwd' is not a regular file", false},
		{"hard link", []helmtest.Entry{chartYAML("app"), {Name: "app/l", Type: tar.TypeLink, Linkname: "app/Chart.yaml"}}, "'app/l' is not a regular file", false},
		{"file at the top", []helmtest.Entry{{Name: "Chart.yaml", Body: helmtest.ChartYAML("app", "1.0.0")}}, "not inside the chart's directory", false},
		{"two top directories", []helmtest.Entry{chartYAML("app"), {Name: "other/x", Body: "x"}}, "more than one top directory", false},
		{"one huge file", []helmtest.Entry{chartYAML("app"), {Name: "app/templates/bomb.yaml", Size: 600 << 10}}, "file 'app/templates/bomb.yaml' is 614400 bytes", true},
		{"many big files", []helmtest.Entry{chartYAML("app"), {Name: "app/a", Size: 400 << 10}, {Name: "app/b", Size: 400 << 10}, {Name: "app/c", Size: 400 << 10}}, "larger than 1048576 bytes uncompressed (at file 'app/c')", true},
		{"chart named ../x", []helmtest.Entry{{Name: "x/Chart.yaml", Body: "apiVersion: v2\nname: ../x\nversion: 1.0.0\n"}}, `"../x" is invalid`, false},
		{"no files", []helmtest.Entry{{Name: "app/", Type: tar.TypeDir}}, "holds no files", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadArchive(helmtest.TarGz(t, tc.entries...), lim)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if errors.Is(err, ErrLimit) != tc.limit {
				t.Fatalf("errors.Is(ErrLimit) = %v, want %v", !tc.limit, tc.limit)
			}
		})
	}
	if _, err := LoadArchive([]byte("not gzip"), lim); err == nil || !strings.Contains(err.Error(), "not gzip") {
		t.Errorf("garbage: %v", err)
	}
}

// TestNestedSubchartBombStopsAtTheParentsLimit: a subchart archive inside a chart counts
// against the same limits, so a small bomb nested in charts/ fails too.
func TestNestedSubchartBombStopsAtTheParentsLimit(t *testing.T) {
	lim := Limits{MaxSize: 1 << 20, MaxFileSize: 512 << 10}
	inner := helmtest.TarGz(t, chartYAML("sub"), helmtest.Entry{Name: "sub/templates/bomb.yaml", Size: 600 << 10})
	outer := helmtest.TarGz(t, chartYAML("app"), helmtest.Entry{Name: "app/charts/sub-1.0.0.tgz", Body: string(inner)})
	_, err := LoadArchive(outer, lim)
	if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "subchart 'charts/sub-1.0.0.tgz'") {
		t.Fatalf("error %v, want a limit error naming the subchart", err)
	}
	evil := helmtest.TarGz(t, chartYAML("sub"), helmtest.Entry{Name: "sub/../../x", Body: "x"})
	outer = helmtest.TarGz(t, chartYAML("app"), helmtest.Entry{Name: "app/charts/sub.tgz", Body: string(evil)})
	if _, err := LoadArchive(outer, lim); err == nil || !strings.Contains(err.Error(), "'..' path segment") {
		t.Fatalf("error %v, want the nested '..' entry rejected", err)
	}
}

// TestLoadHelmPackagedChart: a chart packaged by Helm loads, with its subchart archive.
func TestLoadHelmPackagedChart(t *testing.T) {
	tmp := t.TempDir()
	sub := helmtest.NewChart(t, filepath.Join(tmp, "src"), helmtest.Chart{Name: "sub", Version: "0.2.0"})
	subTgz := helmtest.Package(t, sub, filepath.Join(tmp, "pkg"))
	data, _ := os.ReadFile(subTgz)
	app := helmtest.NewChart(t, filepath.Join(tmp, "src"), helmtest.Chart{Name: "app", Version: "1.2.3",
		Files: map[string]string{"charts/sub-0.2.0.tgz": string(data), ".helmignore": "secret.txt\n", "secret.txt": "left out"}})
	ch, err := LoadDir(app, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if ch.Name() != "app" || len(ch.Dependencies()) != 1 || ch.Dependencies()[0].Metadata.Version != "0.2.0" {
		t.Fatalf("loaded %s with dependencies %v", ch.Name(), ch.Dependencies())
	}
	if _, ok := RawFile(ch, "secret.txt"); ok {
		t.Error(".helmignore'd file was loaded")
	}
	appTgz := helmtest.Package(t, app, filepath.Join(tmp, "pkg"))
	data, _ = os.ReadFile(appTgz)
	ch, err = LoadArchive(data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if ch.Metadata.Version != "1.2.3" || len(ch.Dependencies()) != 1 {
		t.Fatalf("archive loaded as %s %s with %d dependencies", ch.Name(), ch.Metadata.Version, len(ch.Dependencies()))
	}
}

func TestValidateName(t *testing.T) {
	for _, bad := range []string{"", ".", "..", "../x", "a/b", `a\b`, "a\x1bb", strings.Repeat("a", 251)} {
		if ValidateName(bad) == nil {
			t.Errorf("ValidateName(%q) accepted it", bad)
		}
	}
	for _, good := range []string{"podinfo", "my-chart_2", "a.b"} {
		if err := ValidateName(good); err != nil {
			t.Errorf("ValidateName(%q): %v", good, err)
		}
	}
}
