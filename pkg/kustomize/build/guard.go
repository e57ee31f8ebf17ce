package build

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"weir.dev/pkg/yamlguard"
)

// Limits on what a build reads; kustomize itself has none.
const (
	// maxManifestSize is the largest YAML or JSON file a build reads.
	maxManifestSize = 16 << 20
	// maxManifestFiles is the most YAML or JSON files under a source root.
	maxManifestFiles = 50_000
)

// Guard refuses, before kustomize reads them, the files that would make a build
// unbounded or crash it: YAML alias bombs ("billion laughs"), which kustomize expands in full,
// recursive aliases (see yamlguard.Check), and files or trees beyond the limits. Errors name the
// file by its path in the source.
func Guard(root string) error {
	count := 0
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !isManifest(d.Name()) {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if count++; count > maxManifestFiles {
			return fmt.Errorf("the source has more than %d YAML and JSON files", maxManifestFiles)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Size() > maxManifestSize {
			return fmt.Errorf("%s: larger than %d MiB", filepath.ToSlash(rel), maxManifestSize>>20)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return yamlguard.Check(filepath.ToSlash(rel), b)
	})
}

func isManifest(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// tempPath matches absolute paths under the temporary directory in an error message.
var tempPath = regexp.MustCompile(regexp.QuoteMeta(strings.TrimSuffix(os.TempDir(), "/")) + `/[^\s'":,]*`)

// relativize rewrites every temporary path in err's text relative to root, so messages name
// files as the user knows them (`apps/web/deploy.yaml`, `../../etc/passwd`).
func relativize(root string, err error) error {
	msg := tempPath.ReplaceAllStringFunc(err.Error(), func(p string) string {
		rel, e := filepath.Rel(root, p)
		if e != nil {
			return "<source>"
		}
		return filepath.ToSlash(rel)
	})
	return errors.New(msg)
}
