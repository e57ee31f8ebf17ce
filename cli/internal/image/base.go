package image

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// baseLayer is the layer every image starts with: the users, name resolution, the CA bundle
// and the writable directories a scratch image lacks. It holds nothing that depends on the
// platform or the controller, so registries store it once.
func baseLayer(created time.Time) (v1.Layer, error) {
	certs, err := caBundle()
	if err != nil {
		return nil, err
	}
	return newLayer([]entry{
		{name: "etc/passwd", mode: 0o644, data: []byte(
			"root:x:0:0:root:/root:/sbin/nologin\n" +
				fmt.Sprintf("nonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", nonroot, nonroot))},
		{name: "etc/group", mode: 0o644, data: []byte(
			"root:x:0:\n" + fmt.Sprintf("nonroot:x:%d:\n", nonroot))},
		{name: "etc/nsswitch.conf", mode: 0o644, data: []byte("hosts: files dns\n")},
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, data: certs},
		{name: "home/nonroot/", mode: 0o700, uid: nonroot, gid: nonroot},
		{name: "root/", mode: 0o700},
		{name: "tmp/", mode: 0o1777},
	}, created)
}

// caBundle returns the roots of Mozilla's NSS trust store, as vendored in the Go module
// golang.org/x/crypto/x509roots/fallback, as PEM in the module's order. Roots that carry a
// constraint a PEM file cannot express (NSS's "distrust after") are left out rather than
// trusted without it.
func caBundle() ([]byte, error) {
	var buf bytes.Buffer
	n := 0
	for root := range bundle.Roots() {
		if root.Constraint != nil {
			continue
		}
		if err := pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: root.Certificate}); err != nil {
			return nil, err
		}
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("image: the CA bundle of golang.org/x/crypto/x509roots/fallback is empty")
	}
	return buf.Bytes(), nil
}
