// Package ocitest runs an in-process OCI registry (distribution v3, in memory, with optional
// htpasswd basic auth) on 127.0.0.1 for tests, and pushes artifacts and Helm charts to it
// with oras-go.
//
// It is test support: only _test.go files import it.
package ocitest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/bcrypt"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"

	"weir.dev/source-controller/internal/gittest"

	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"           // the htpasswd access controller
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory" // the in-memory storage driver
)

// Media types of the content tests push.
const (
	// FluxContentMediaType is the layer type `flux push artifact` writes.
	FluxContentMediaType = "application/vnd.cncf.flux.content.v1.tar+gzip"
	// HelmChartContentMediaType is the layer of a Helm chart pushed with `helm push`.
	HelmChartContentMediaType = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
	// HelmChartConfigMediaType is the config of a Helm chart pushed with `helm push`.
	HelmChartConfigMediaType = "application/vnd.cncf.helm.config.v1+json"
)

// Registry is a registry on 127.0.0.1.
type Registry struct {
	*httptest.Server
	// Host is host:port.
	Host           string
	User, Password string
	// CA is the PEM CA certificate of a TLS registry; its certificate and key are valid for
	// client authentication too.
	CA, Cert, Key []byte
}

// Options configure NewRegistry.
type Options struct {
	// User and Password, when set, are required (htpasswd basic auth).
	User, Password string
	// TLS serves HTTPS with a certificate from a fresh CA; ClientAuth also requires a client
	// certificate from that CA.
	TLS, ClientAuth bool
}

// NewRegistry starts a registry for the test; it stops when the test ends.
func NewRegistry(t testing.TB, o Options) *Registry {
	t.Helper()
	logrus.SetOutput(io.Discard)
	cfg := &configuration.Configuration{}
	cfg.Storage = configuration.Storage{"inmemory": configuration.Parameters{}}
	cfg.Log.AccessLog.Disabled = true
	cfg.Log.Level = "error"
	cfg.HTTP.Secret = "test-secret"
	if o.User != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(o.Password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "htpasswd")
		if err := os.WriteFile(p, []byte(o.User+":"+string(hash)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg.Auth = configuration.Auth{"htpasswd": configuration.Parameters{"realm": "test", "path": p}}
	}
	srv := httptest.NewUnstartedServer(handlers.NewApp(context.Background(), cfg))
	r := &Registry{Server: srv, User: o.User, Password: o.Password}
	if o.TLS {
		r.CA, r.Cert, r.Key = gittest.SelfSignedTLS(t)
		pair, err := tls.X509KeyPair(r.Cert, r.Key)
		if err != nil {
			t.Fatal(err)
		}
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
		if o.ClientAuth {
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(r.CA)
			srv.TLS.ClientCAs, srv.TLS.ClientAuth = pool, tls.RequireAndVerifyClientCert
		}
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	r.Host = strings.TrimPrefix(strings.TrimPrefix(srv.URL, "http://"), "https://")
	return r
}

// URL returns the oci:// URL of a repository.
func (r *Registry) URL(repo string) string { return "oci://" + r.Host + "/" + repo }

// repository returns an authenticated client for a repository.
func (r *Registry) repository(t testing.TB, repo string) *remote.Repository {
	t.Helper()
	rr, err := remote.NewRepository(r.Host + "/" + repo)
	if err != nil {
		t.Fatal(err)
	}
	rr.PlainHTTP = r.CA == nil
	ac := &auth.Client{Client: r.Server.Client(), Cache: auth.NewCache()}
	if r.CA != nil {
		pair, err := tls.X509KeyPair(r.Cert, r.Key)
		if err != nil {
			t.Fatal(err)
		}
		tr := r.Server.Client().Transport.(*http.Transport).Clone()
		tr.TLSClientConfig.Certificates = []tls.Certificate{pair}
		ac.Client = &http.Client{Transport: tr}
	}
	if r.User != "" {
		ac.Credential = auth.StaticCredential(r.Host, auth.Credential{Username: r.User, Password: r.Password})
	}
	rr.Client = ac
	return rr
}

// Layer is one layer to push.
type Layer struct {
	MediaType string
	Data      []byte
}

// Push pushes an image manifest with the layers, an empty config and the annotations, tags it
// tag, and returns its digest.
func (r *Registry) Push(t testing.TB, repo, tag string, layers []Layer, annotations map[string]string) digest.Digest {
	t.Helper()
	config := Layer{MediaType: ocispec.MediaTypeEmptyJSON, Data: []byte("{}")}
	return r.push(t, repo, tag, config, layers, annotations)
}

func (r *Registry) push(t testing.TB, repo, tag string, config Layer, layers []Layer, annotations map[string]string) digest.Digest {
	t.Helper()
	ctx := context.Background()
	rr := r.repository(t, repo)
	pushBlob := func(l Layer) ocispec.Descriptor {
		desc := content.NewDescriptorFromBytes(l.MediaType, l.Data)
		if ok, err := rr.Exists(ctx, desc); err != nil {
			t.Fatal(err)
		} else if !ok {
			if err := rr.Push(ctx, desc, bytes.NewReader(l.Data)); err != nil {
				t.Fatal(err)
			}
		}
		return desc
	}
	m := ocispec.Manifest{
		MediaType:   ocispec.MediaTypeImageManifest,
		Config:      pushBlob(config),
		Annotations: annotations,
	}
	m.SchemaVersion = 2
	for _, l := range layers {
		m.Layers = append(m.Layers, pushBlob(l))
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	desc := content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, data)
	if err := rr.PushReference(ctx, desc, bytes.NewReader(data), tag); err != nil {
		t.Fatal(err)
	}
	return desc.Digest
}

// PushChart pushes a packaged chart the way `helm push` does: the chart's metadata as config,
// the archive as the one layer, tagged with the version (`+` written as `_`).
func (r *Registry) PushChart(t testing.TB, repo, name, version string, tgz []byte) digest.Digest {
	t.Helper()
	cfg, _ := json.Marshal(map[string]string{"apiVersion": "v2", "name": name, "version": version})
	return r.push(t, repo+"/"+name, strings.ReplaceAll(version, "+", "_"),
		Layer{MediaType: HelmChartConfigMediaType, Data: cfg},
		[]Layer{{MediaType: HelmChartContentMediaType, Data: tgz}}, nil)
}

// TarGz returns a gzip tar of files (path → content), in path order.
func TarGz(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Name: n, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(files[n]))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(files[n])); err != nil {
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

// NewProxy starts a reverse proxy to the registry whose responses modify may rewrite: it is
// given each GET request's path and response body and returns the body to send. Headers are
// passed on unchanged (Content-Length is fixed up), so a registry's Docker-Content-Digest can
// be made to lie about the body.
func (r *Registry) NewProxy(t testing.TB, modify func(path string, body []byte) []byte) *httptest.Server {
	t.Helper()
	target, _ := url.Parse(r.Server.URL)
	p := httputil.NewSingleHostReverseProxy(target)
	p.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method != http.MethodGet {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		body = modify(resp.Request.URL.Path, body)
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Del("Content-Length")
		return nil
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv
}
