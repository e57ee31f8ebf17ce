package migrate

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// File is one migrated manifest file.
type File struct {
	// Path is the file as given or found, Rel its path relative to the input directory (its
	// base name when the input is a file).
	Path, Rel string
	// Mode is the file's permission bits, kept when it is written.
	Mode fs.FileMode
	// Original is the file's text; Migrated the rewritten text.
	Original, Migrated []byte
	// Findings are what did not map.
	Findings []Finding
}

// Changed reports whether the migration changed the file.
func (f *File) Changed() bool { return string(f.Original) != string(f.Migrated) }

// Files migrates input, a YAML file or a directory whose .yaml and .yml files (outside hidden
// directories) it migrates, in lexical order.
func Files(input string) ([]*File, error) {
	fi, err := os.Stat(input)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		f, err := migrateFile(input, filepath.Base(input))
		if err != nil {
			return nil, err
		}
		return []*File{f}, nil
	}
	var files []*File
	err = filepath.WalkDir(input, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != input && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if ext := strings.ToLower(filepath.Ext(p)); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		rel, err := filepath.Rel(input, p)
		if err != nil {
			return err
		}
		f, err := migrateFile(p, rel)
		if err != nil {
			return err
		}
		files = append(files, f)
		return nil
	})
	return files, err
}

func migrateFile(path, rel string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	out, findings := Rewrite(path, b)
	return &File{Path: path, Rel: rel, Mode: fi.Mode().Perm(), Original: b, Migrated: out, Findings: findings}, nil
}
