package chart

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/Masterminds/semver/v3"
	hchart "helm.sh/helm/v3/pkg/chart"
)

// Remote fetches the chart a dependency names from its (non-local) repository, at the highest
// version in the dependency's range.
type Remote func(ctx context.Context, dep *hchart.Dependency) (*hchart.Chart, error)

// Dependencies resolves the dependencies of charts.
type Dependencies struct {
	// Root is the source's root directory: local dependencies must be inside it.
	Root string
	// Remote fetches the other dependencies; nil makes them an error.
	Remote Remote
	// Limits bound each local dependency, as for LoadDir.
	Limits Limits
}

// Build adds to ch the dependencies its Chart.yaml (or requirements.yaml) lists that its
// charts/ directory lacks, and returns them as `name@version`. A `file://` dependency is
// relative to dir, the chart's directory ("" for a packaged chart, which then cannot have
// any), and must stay inside Root; its own missing dependencies are resolved in turn. Versions
// locked in Chart.lock (or requirements.lock) win over the ranges in Chart.yaml. A
// dependency's chart must have the dependency's name and a version in its range.
func (d *Dependencies) Build(ctx context.Context, ch *hchart.Chart, dir string) ([]string, error) {
	return d.build(ctx, ch, dir, 0)
}

func (d *Dependencies) build(ctx context.Context, ch *hchart.Chart, dir string, depth int) ([]string, error) {
	if depth > maxNesting {
		return nil, fmt.Errorf("local dependencies nest deeper than %d levels at chart '%s'", maxNesting, ch.Name())
	}
	present := map[string]bool{}
	for _, sub := range ch.Dependencies() {
		present[sub.Name()] = true
	}
	locked := map[string]string{}
	if ch.Lock != nil {
		for _, l := range ch.Lock.Dependencies {
			if l != nil {
				locked[l.Name+" "+l.Repository] = l.Version
			}
		}
	}
	var added []string
	for _, dep := range ch.Metadata.Dependencies {
		if dep == nil || present[dep.Name] {
			continue
		}
		if err := ValidateName(dep.Name); err != nil {
			return nil, fmt.Errorf("chart '%s': dependency: %w", ch.Name(), err)
		}
		want := *dep
		if v, ok := locked[dep.Name+" "+dep.Repository]; ok && v != "" {
			want.Version = v
		}
		var sub *hchart.Chart
		var err error
		switch repo := dep.Repository; {
		case repo == "":
			err = fmt.Errorf("has no repository and is not in charts/")
		case strings.HasPrefix(repo, "file://"):
			sub, err = d.local(ctx, &want, dir, depth)
		case strings.HasPrefix(repo, "@") || strings.HasPrefix(repo, "alias:"):
			err = fmt.Errorf("repository alias '%s' is not supported: use the repository's URL", printable(repo))
		case d.Remote == nil:
			err = fmt.Errorf("remote repository '%s' is not allowed here", printable(repo))
		default:
			sub, err = d.Remote(ctx, &want)
		}
		if err == nil {
			err = checkDependency(&want, sub)
		}
		if err != nil {
			return nil, fmt.Errorf("chart '%s': dependency '%s': %w", ch.Name(), dep.Name, err)
		}
		ch.AddDependency(sub)
		present[dep.Name] = true
		added = append(added, sub.Name()+"@"+sub.Metadata.Version)
	}
	return added, nil
}

// local loads a file:// dependency from inside Root.
func (d *Dependencies) local(ctx context.Context, dep *hchart.Dependency, dir string, depth int) (*hchart.Chart, error) {
	if dir == "" {
		return nil, fmt.Errorf("'%s' is a local path, but the chart is a packaged archive", printable(dep.Repository))
	}
	rel := strings.TrimPrefix(dep.Repository, "file://")
	if filepath.IsAbs(rel) {
		return nil, fmt.Errorf("'%s' must be relative to the chart", printable(dep.Repository))
	}
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if real, err := filepath.EvalSymlinks(p); err == nil {
		p = real
	}
	root, err := filepath.EvalSymlinks(d.Root)
	if err != nil {
		root = d.Root
	}
	if !within(p, root) {
		return nil, fmt.Errorf("'%s' leaves the source", printable(dep.Repository))
	}
	fi, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("'%s' does not exist in the source", printable(dep.Repository))
	}
	if !fi.IsDir() {
		data, err := readFileLimited(p, d.Limits.withDefaults().MaxSize)
		if err != nil {
			return nil, err
		}
		return LoadArchive(data, d.Limits)
	}
	sub, err := LoadDir(p, d.Limits)
	if err != nil {
		return nil, err
	}
	if _, err := d.build(ctx, sub, p, depth+1); err != nil {
		return nil, err
	}
	return sub, nil
}

// checkDependency checks that the chart fetched for dep has its name and a version in range.
func checkDependency(dep *hchart.Dependency, sub *hchart.Chart) error {
	if sub.Name() != dep.Name {
		return fmt.Errorf("the chart found is named '%s'", sub.Name())
	}
	if dep.Version == "" {
		return nil
	}
	c, err := semver.NewConstraint(dep.Version)
	if err != nil {
		return fmt.Errorf("version '%s' is not a valid SemVer range", printable(dep.Version))
	}
	v, err := semver.NewVersion(sub.Metadata.Version)
	if err != nil || !c.Check(v) {
		return fmt.Errorf("version %s does not match '%s'", sub.Metadata.Version, dep.Version)
	}
	return nil
}

// within reports whether p is root or inside it.
func within(p, root string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}
