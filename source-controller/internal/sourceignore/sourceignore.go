// Package sourceignore decides which files of a checkout go into an artifact, with gitignore
// syntax: default exclusions (CI configuration, images and archives), the object's spec.ignore
// after them (so `!pattern` re-includes a default), the `.sourceignore` files found in the
// tree, each scoped to its directory, and VCS metadata, which is always excluded.
package sourceignore

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// FileName is the name of the ignore files read from the tree.
const FileName = ".sourceignore"

// Defaults are excluded unless spec.ignore re-includes them.
const Defaults = `# CI configuration
.github/
.circleci/
.travis.yml
.gitlab-ci.yml
appveyor.yml
.drone.yml
cloudbuild.yaml
codeship-services.yml
codeship-steps.yml
# images, media and archives
*.jpg
*.jpeg
*.gif
*.png
*.wmv
*.flv
*.tar.gz
*.tgz
*.zip
`

// vcs is always excluded, after every user pattern.
const vcs = `.git/
.gitignore
.gitmodules
.gitattributes
`

// Matcher reports whether a path of the tree is excluded.
type Matcher struct{ m gitignore.Matcher }

// New reads the rules for the tree at root: Defaults, then spec (if set), then every
// .sourceignore file, then the VCS exclusions.
func New(root string, spec *string) (*Matcher, error) {
	patterns := parse(Defaults, nil)
	if spec != nil {
		patterns = append(patterns, parse(*spec, nil)...)
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() && d.Name() == FileName {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, filepath.Dir(p))
			var domain []string
			if rel != "." {
				domain = strings.Split(filepath.ToSlash(rel), "/")
			}
			patterns = append(patterns, parse(string(b), domain)...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	patterns = append(patterns, parse(vcs, nil)...)
	return &Matcher{m: gitignore.NewMatcher(patterns)}, nil
}

// Include reports whether the slash-separated path rel (relative to the root) belongs in the
// artifact.
func (m *Matcher) Include(rel string, isDir bool) bool {
	return !m.m.Match(strings.Split(rel, "/"), isDir)
}

func parse(text string, domain []string) []gitignore.Pattern {
	var ps []gitignore.Pattern
	s := bufio.NewScanner(bytes.NewBufferString(text))
	for s.Scan() {
		line := s.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ps = append(ps, gitignore.ParsePattern(line, domain))
	}
	return ps
}
