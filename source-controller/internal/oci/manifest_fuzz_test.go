package oci

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// FuzzManifest serves arbitrary bytes as an image manifest from a registry on 127.0.0.1 and
// pulls it as source-controller does: Manifest, SelectLayer, then CopyBlob of the layer. Bytes
// that do not match the descriptor's digest, or are over the size limit, are refused; a layer
// selected by media type has that type; and whatever the manifest says, the only requests
// made are for this repository's manifest and blobs by a valid digest.
func FuzzManifest(f *testing.F) {
	layer := `{"mediaType":"application/vnd.cncf.flux.content.v1.tar+gzip","digest":"sha256:` + strings.Repeat("ab", 32) + `","size":12}`
	f.Add([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[`+layer+`],"annotations":{"org.opencontainers.image.revision":"main@sha1:abc"}}`), "", false)
	f.Add([]byte(`{"schemaVersion":2,"layers":[{"mediaType":"x","digest":"sha256:00","size":1},`+layer+`]}`), "application/vnd.cncf.flux.content.v1.tar+gzip", false)
	f.Add([]byte(`{"layers":[{"mediaType":"x","digest":"sha256:`+strings.Repeat("ab", 32)+`?x=1","size":-1}]}`), "", false)
	f.Add([]byte(`{"layers":[]}`), "", false)
	f.Add([]byte(`{"schemaVersion":2}`), "", true)
	f.Add([]byte(`[1,2,3]`), "", false)
	f.Add([]byte(strings.Repeat(" ", 5000)+"{}"), "", false)

	const maxSize = 4096
	f.Fuzz(func(t *testing.T, data []byte, mediaType string, tamper bool) {
		var mu sync.Mutex
		var paths []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			paths = append(paths, r.URL.EscapedPath())
			mu.Unlock()
			if strings.HasPrefix(r.URL.Path, "/v2/app/manifests/") {
				w.Header().Set("Content-Type", ocispec.MediaTypeImageManifest)
				_, _ = w.Write(data)
				return
			}
			http.NotFound(w, r)
		}))
		defer srv.Close()
		host := strings.TrimPrefix(srv.URL, "http://")
		c, err := NewClient(host, "app", Options{PlainHTTP: true, HTTP: srv.Client()})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()

		desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(data), Size: int64(len(data))}
		if tamper {
			desc.Digest = digest.FromBytes(append([]byte("x"), data...))
		}
		m, err := c.Manifest(ctx, desc, maxSize)
		switch {
		case err == nil && tamper:
			t.Fatal("accepted a manifest that does not match its digest")
		case err == nil && len(data) > maxSize:
			t.Fatalf("accepted a manifest of %d bytes, over the limit of %d", len(data), maxSize)
		case err != nil && tamper && len(data) <= maxSize && !errors.Is(err, ErrDigestMismatch):
			t.Fatalf("a tampered manifest failed with %v, want ErrDigestMismatch", err)
		case err != nil:
			return
		}
		l, err := SelectLayer(m, mediaType)
		if err != nil {
			return
		}
		if mediaType != "" && l.MediaType != mediaType {
			t.Fatalf("selected a layer of type %q for %q", l.MediaType, mediaType)
		}
		var sink strings.Builder
		_ = c.CopyBlob(ctx, l, 1<<20, &sink)
		mu.Lock()
		defer mu.Unlock()
		for _, p := range paths {
			if strings.HasPrefix(p, "/v2/app/manifests/") || p == "/v2/" {
				continue
			}
			d, ok := strings.CutPrefix(p, "/v2/app/blobs/")
			if !ok || digest.Digest(d).Validate() != nil {
				t.Fatalf("the layer descriptor %q made a request for %s", l.Digest, p)
			}
		}
	})
}
