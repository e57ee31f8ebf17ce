package helmrepo

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"
)

// ErrChartNotFound is wrapped when the index has no chart of the name, or no version in range.
var ErrChartNotFound = errors.New("chart not found")

// ParseIndex parses an index.yaml strictly: unknown fields, duplicate keys, a missing
// apiVersion and null entries are errors naming the place at fault. Chart versions that fail
// Helm's metadata validation are dropped from the index and described in dropped, so one bad
// version does not hide a repository's other charts.
func ParseIndex(data []byte) (idx *repo.IndexFile, dropped []string, err error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil, errors.New("index.yaml is empty")
	}
	idx = &repo.IndexFile{}
	if err := yaml.UnmarshalStrict(data, idx); err != nil {
		return nil, nil, fmt.Errorf("index.yaml is not a valid index: %s", firstLine(err.Error()))
	}
	if idx.APIVersion == "" {
		return nil, nil, errors.New("index.yaml has no apiVersion")
	}
	if idx.Entries == nil {
		return nil, nil, errors.New("index.yaml has no entries")
	}
	for _, name := range sortedKeys(idx.Entries) {
		versions := idx.Entries[name]
		if versions == nil {
			return nil, nil, fmt.Errorf("index.yaml: chart '%s' has a null list of versions", name)
		}
		kept := versions[:0]
		for i, cv := range versions {
			if cv == nil {
				return nil, nil, fmt.Errorf("index.yaml: chart '%s' has a null entry (item %d)", name, i)
			}
			if cv.Metadata == nil {
				cv.Metadata = &chart.Metadata{}
			}
			if cv.APIVersion == "" {
				cv.APIVersion = chart.APIVersionV1
			}
			if err := cv.Validate(); err != nil {
				dropped = append(dropped, fmt.Sprintf("%s %s: %s", name, cv.Version, err))
				continue
			}
			if cv.Name != name {
				dropped = append(dropped, fmt.Sprintf("%s %s: listed under '%s' but named '%s'", name, cv.Version, name, cv.Name))
				continue
			}
			kept = append(kept, cv)
		}
		idx.Entries[name] = kept
	}
	return idx, dropped, nil
}

// Normalize returns the stable form of an index: JSON (which is YAML) with the entries sorted
// by name and each chart's versions from highest to lowest, without the `generated` time and
// the `serverInfo`, which change when nothing else does.
func Normalize(idx *repo.IndexFile) ([]byte, error) {
	n := *idx
	n.Generated = time.Time{}
	n.ServerInfo = nil
	n.Entries = make(map[string]repo.ChartVersions, len(idx.Entries))
	for name, versions := range idx.Entries {
		sorted := slices.Clone(versions)
		sort.SliceStable(sorted, func(i, j int) bool { return compareVersions(sorted[i], sorted[j]) > 0 })
		n.Entries[name] = sorted
	}
	return json.Marshal(&n) // map keys are sorted
}

// compareVersions orders chart versions by SemVer, unparsable ones lowest, with ties broken
// by the version string, the digest and the first URL, so that the order is total.
func compareVersions(a, b *repo.ChartVersion) int {
	va, errA := semver.NewVersion(a.Version)
	vb, errB := semver.NewVersion(b.Version)
	switch {
	case errA == nil && errB == nil:
		if c := va.Compare(vb); c != 0 {
			return c
		}
	case errA == nil:
		return 1
	case errB == nil:
		return -1
	}
	if c := cmp.Compare(a.Version, b.Version); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Digest, b.Digest); c != 0 {
		return c
	}
	return cmp.Compare(strings.Join(a.URLs, " "), strings.Join(b.URLs, " "))
}

// ParseNormalized reads back an index Normalize wrote.
func ParseNormalized(data []byte) (*repo.IndexFile, error) {
	idx := &repo.IndexFile{}
	if err := json.Unmarshal(data, idx); err != nil {
		return nil, fmt.Errorf("reading the stored index: %w", err)
	}
	return idx, nil
}

// Select returns the highest version of the chart name that satisfies the SemVer range
// constraint ("*" or "" for the highest release). A constraint that does not parse is an
// *InvalidRangeError.
func Select(idx *repo.IndexFile, name, constraint string) (*repo.ChartVersion, error) {
	c, err := ParseRange(constraint)
	if err != nil {
		return nil, err
	}
	versions, ok := idx.Entries[name]
	if !ok || len(versions) == 0 {
		return nil, fmt.Errorf("%w: no chart '%s' in the index", ErrChartNotFound, name)
	}
	var best *repo.ChartVersion
	var bestV *semver.Version
	for _, cv := range versions {
		v, err := semver.NewVersion(cv.Version)
		if err != nil || !c.Check(v) {
			continue
		}
		if bestV == nil || v.GreaterThan(bestV) {
			best, bestV = cv, v
		}
	}
	if best == nil {
		return nil, fmt.Errorf("%w: no version of chart '%s' matches '%s'", ErrChartNotFound, name, constraint)
	}
	return best, nil
}

// InvalidRangeError is a SemVer range that does not parse.
type InvalidRangeError struct{ Range string }

func (e *InvalidRangeError) Error() string {
	return fmt.Sprintf("'%s' is not a valid SemVer range", e.Range)
}

// ParseRange parses a SemVer range; "" means "*".
func ParseRange(r string) (*semver.Constraints, error) {
	if strings.TrimSpace(r) == "" {
		r = "*"
	}
	c, err := semver.NewConstraint(r)
	if err != nil {
		return nil, &InvalidRangeError{Range: r}
	}
	return c, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	if len(line) > 300 {
		line = line[:300] + "…"
	}
	return line
}
