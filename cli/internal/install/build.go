package install

import (
	"fmt"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// header starts the generated manifests.yaml.
const header = "# Generated from deploy/ by `make generate` (go generate ./internal/install); DO NOT EDIT.\n"

// Build returns what manifests.yaml holds for the kustomization in dir: a header and the
// kustomize build of dir.
func Build(dir string) ([]byte, error) {
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	y, err := m.AsYaml()
	if err != nil {
		return nil, err
	}
	return append([]byte(header), y...), nil
}
