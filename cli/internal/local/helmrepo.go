package local

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sort"
	"time"
)

// demoChart is the demo's Helm chart, by path inside the chart directory. It holds a
// ConfigMap only, so that its release becomes ready with or without a simulated node.
var demoChart = map[string]string{
	"Chart.yaml": `apiVersion: v2
name: weir-demo
description: The chart of the Weir demo
version: 0.1.0
appVersion: "1.0.0"
`,
	"values.yaml": `message: Hello from a Helm chart
`,
	"templates/configmap.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
  labels:
    app.kubernetes.io/managed-by: {{ .Release.Service }}
data:
  message: {{ .Values.message | quote }}
`,
}

const (
	demoChartName    = "weir-demo"
	demoChartVersion = "0.1.0"
)

// helmRepository serves a Helm chart repository (index.yaml and one packaged chart) over HTTP
// on 127.0.0.1.
type helmRepository struct {
	url string
	srv *http.Server
}

// startHelmRepository serves the chart name at version, made of files (paths inside the chart).
func startHelmRepository(name, version string, files map[string]string) (*helmRepository, error) {
	tgz, err := packageChart(name, files)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &helmRepository{url: "http://" + l.Addr().String()}
	file := fmt.Sprintf("%s-%s.tgz", name, version)
	sum := sha256.Sum256(tgz)
	now := time.Now().UTC().Format(time.RFC3339)
	index := fmt.Sprintf(`apiVersion: v1
entries:
  %s:
    - apiVersion: v2
      name: %s
      version: %s
      appVersion: "1.0.0"
      created: %q
      digest: %s
      urls:
        - %s/%s
generated: %q
`, name, name, version, now, hex.EncodeToString(sum[:]), r.url, file, now)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /index.yaml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/x-yaml")
		_, _ = w.Write([]byte(index))
	})
	mux.HandleFunc("GET /"+file, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/gzip")
		_, _ = w.Write(tgz)
	})
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := r.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "helm repository:", err)
		}
	}()
	return r, nil
}

func (r *helmRepository) close() { _ = r.srv.Close() }

// packageChart returns the .tgz `helm package` would make of files: each under name/.
func packageChart(name string, files map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		body := []byte(files[p])
		hdr := &tar.Header{Name: name + "/" + p, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
