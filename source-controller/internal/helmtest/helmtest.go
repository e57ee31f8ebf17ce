// Package helmtest makes Helm charts with Helm's own packages and serves them from a chart
// repository on 127.0.0.1 (httptest), with optional basic auth and request recording. It also
// writes hand-made (hostile) chart archives.
//
// It is test support: only _test.go files import it.
package helmtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"
)

// IsolateHelm points Helm's cache, config and data directories at temporary directories, so
// nothing a test does reaches the user's Helm setup.
func IsolateHelm(t testing.TB) {
	t.Helper()
	for _, k := range []string{"HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"} {
		t.Setenv(k, t.TempDir())
	}
}

// Chart describes a chart NewChart writes.
type Chart struct {
	Name, Version string
	// Files are written over the `helm create` scaffold, relative to the chart's directory;
	// a value "-" deletes the file instead.
	Files map[string]string
	// Dependencies are added to Chart.yaml.
	Dependencies []Dependency
	// Scaffold keeps `helm create`'s templates and values instead of the one-ConfigMap chart.
	Scaffold bool
}

// Dependency is an entry of Chart.yaml's dependencies.
type Dependency struct {
	Name, Version, Repository string
}

// NewChart scaffolds a chart with chartutil.Create in parent (created if needed) and returns
// its directory. Unless c.Scaffold, the scaffold's templates are replaced by one ConfigMap
// template that prints the values, so tests can render it cheaply.
func NewChart(t testing.TB, parent string, c Chart) string {
	t.Helper()
	if err := os.MkdirAll(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := chartutil.Create(c.Name, parent)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	if !c.Scaffold {
		if err := os.RemoveAll(filepath.Join(dir, "templates")); err != nil {
			t.Fatal(err)
		}
		files["templates/configmap.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  values: {{ toJson .Values | quote }}\n"
		files["values.yaml"] = "replicaCount: 1\nimage:\n  repository: nginx\n  tag: stable\n"
	}
	for k, v := range c.Files {
		files[k] = v
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if content == "-" {
			os.Remove(p)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	md, err := chartutil.LoadChartfile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	md.Version = c.Version
	for _, d := range c.Dependencies {
		md.Dependencies = append(md.Dependencies, &chart.Dependency{Name: d.Name, Version: d.Version, Repository: d.Repository})
	}
	if err := chartutil.SaveChartfile(filepath.Join(dir, "Chart.yaml"), md); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Package packages the chart in dir with Helm's chartutil.Save into outDir and returns the
// archive's path.
func Package(t testing.TB, dir, outDir string) string {
	t.Helper()
	ch, err := loader.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := chartutil.Save(ch, outDir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Entry is one entry of a hand-made tar archive.
type Entry struct {
	Name string
	Body string
	// Size, when not zero, is the number of zero bytes written instead of Body.
	Size int64
	// Type is the tar type flag; regular file when zero.
	Type byte
	// Linkname is the target of a link.
	Linkname string
}

// TarGz writes entries as a gzip tar archive, whatever their names and types.
func TarGz(t testing.TB, entries ...Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		typ := e.Type
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Name: e.Name, Typeflag: typ, Mode: 0o644, Linkname: e.Linkname}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(e.Body))
			if e.Size > 0 {
				hdr.Size = e.Size
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if typ != tar.TypeReg {
			continue
		}
		if e.Size > 0 {
			zero := make([]byte, 64<<10)
			for left := e.Size; left > 0; {
				n := min(left, int64(len(zero)))
				if _, err := tw.Write(zero[:n]); err != nil {
					t.Fatal(err)
				}
				left -= n
			}
		} else if _, err := tw.Write([]byte(e.Body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Repo is a Helm chart repository served over HTTP on 127.0.0.1.
type Repo struct {
	*httptest.Server
	// Dir holds index.yaml and the archives.
	Dir string
	// User and Password, when set, are required as basic auth.
	User, Password string
	// ChartBaseURL is the base of the chart URLs written in the index; "" writes relative URLs.
	ChartBaseURL string

	mu       sync.Mutex
	requests []Request
	handler  http.Handler
}

// Request is what the repository saw of one request.
type Request struct {
	Path          string
	Authorization string
}

// RepoOptions configure NewRepo.
type RepoOptions struct {
	User, Password string
	// Handler, when set, serves instead of the files (after auth); for hanging or broken servers.
	Handler http.Handler
}

// NewRepo starts an empty repository; it stops when the test ends.
func NewRepo(t testing.TB, o RepoOptions) *Repo {
	t.Helper()
	r := &Repo{Dir: t.TempDir(), User: o.User, Password: o.Password, handler: o.Handler}
	files := http.FileServer(http.Dir(r.Dir))
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.requests = append(r.requests, Request{Path: req.URL.Path, Authorization: req.Header.Get("Authorization")})
		r.mu.Unlock()
		if r.User != "" {
			u, p, ok := req.BasicAuth()
			if !ok || u != r.User || p != r.Password {
				w.Header().Set("WWW-Authenticate", `Basic realm="charts"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		}
		if r.handler != nil {
			r.handler.ServeHTTP(w, req)
			return
		}
		files.ServeHTTP(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

// Publish packages the chart in dir into the repository and rewrites index.yaml.
func (r *Repo) Publish(t testing.TB, dir string) {
	t.Helper()
	Package(t, dir, r.Dir)
	r.Reindex(t)
}

// PublishArchive adds a (possibly hand-made) archive under name and indexes it with the given
// chart name and version, without loading it.
func (r *Repo) PublishArchive(t testing.TB, fileName, chartName, version string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(r.Dir, fileName), data, 0o644); err != nil {
		t.Fatal(err)
	}
	idx := r.index(t)
	idx.Entries[chartName] = append(idx.Entries[chartName], &repo.ChartVersion{
		Metadata: &chart.Metadata{APIVersion: "v2", Name: chartName, Version: version},
		URLs:     []string{r.ChartBaseURL + fileName},
	})
	r.writeIndex(t, idx)
}

// Reindex rewrites index.yaml from the archives in the repository, with Helm's IndexDirectory.
func (r *Repo) Reindex(t testing.TB) {
	t.Helper()
	idx, err := repo.IndexDirectory(r.Dir, r.ChartBaseURL)
	if err != nil {
		t.Fatal(err)
	}
	r.writeIndex(t, idx)
}

func (r *Repo) index(t testing.TB) *repo.IndexFile {
	t.Helper()
	p := filepath.Join(r.Dir, "index.yaml")
	if _, err := os.Stat(p); err != nil {
		return repo.NewIndexFile()
	}
	idx, err := repo.LoadIndexFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

func (r *Repo) writeIndex(t testing.TB, idx *repo.IndexFile) {
	t.Helper()
	idx.SortEntries()
	if err := idx.WriteFile(filepath.Join(r.Dir, "index.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// RewriteIndex loads index.yaml, lets change modify it, and writes it back without sorting.
func (r *Repo) RewriteIndex(t testing.TB, change func(*repo.IndexFile)) {
	t.Helper()
	idx := r.index(t)
	change(idx)
	if err := idx.WriteFile(filepath.Join(r.Dir, "index.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// SetIndex replaces index.yaml with data as is.
func (r *Repo) SetIndex(t testing.TB, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(r.Dir, "index.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Requests returns the requests seen so far.
func (r *Repo) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.requests...)
}

// RequestsTo returns the requests seen so far whose path ends with suffix.
func (r *Repo) RequestsTo(suffix string) []Request {
	var out []Request
	for _, req := range r.Requests() {
		if strings.HasSuffix(req.Path, suffix) {
			out = append(out, req)
		}
	}
	return out
}

// ChartYAML returns a minimal Chart.yaml for name and version.
func ChartYAML(name, version string) string {
	b, _ := yaml.Marshal(map[string]string{"apiVersion": "v2", "name": name, "version": version})
	return string(b)
}
