package install

import (
	"bytes"
	"testing"
)

func TestManifestsAreCurrent(t *testing.T) {
	want, err := Build("../../../deploy")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(Manifests, want) {
		t.Fatal("manifests.yaml is stale: run `make generate` (or go generate ./internal/install in cli/)")
	}
}

func TestObjects(t *testing.T) {
	objs, err := Objects()
	if err != nil {
		t.Fatal(err)
	}
	crds, deployments := 0, 0
	for _, u := range objs {
		if IsCRD(u) {
			crds++
		}
		if u.GetKind() == "Deployment" && u.GetNamespace() == "weir-system" {
			deployments++
		}
	}
	if crds != 9 || deployments != 4 {
		t.Errorf("%d CRDs and %d Deployments in weir-system; want 9 and 4", crds, deployments)
	}
}
