package chart

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	hchart "helm.sh/helm/v3/pkg/chart"
	"sigs.k8s.io/yaml"
)

// FileName is the name of a chart's package: `<name>-<version>.tgz`.
func FileName(ch *hchart.Chart) string {
	return fmt.Sprintf("%s-%s.tgz", ch.Name(), ch.Metadata.Version)
}

// Package writes ch as a Helm chart archive: the layout `helm package` writes (Chart.yaml,
// Chart.lock, values.yaml, values.schema.json, templates, other files, then each subchart
// under charts/<name>/), with files sorted by name and every header's time, owner and mode
// fixed, so the same chart always gives the same bytes.
func Package(w io.Writer, ch *hchart.Chart) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	if err := writeChart(tw, ch, ""); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

func writeChart(tw *tar.Writer, ch *hchart.Chart, prefix string) error {
	if err := ValidateName(ch.Name()); err != nil {
		return err
	}
	if err := ch.Validate(); err != nil {
		return fmt.Errorf("chart '%s': %w", ch.Name(), err)
	}
	base := prefix + ch.Name() + "/"
	md := *ch.Metadata
	if md.APIVersion == hchart.APIVersionV1 {
		md.Dependencies = nil // requirements.yaml holds them, as a file
	}
	data, err := yaml.Marshal(&md)
	if err != nil {
		return err
	}
	if err := writeFile(tw, base+"Chart.yaml", data); err != nil {
		return err
	}
	if md.APIVersion == hchart.APIVersionV2 && ch.Lock != nil {
		if data, err = yaml.Marshal(ch.Lock); err != nil {
			return err
		}
		if err := writeFile(tw, base+"Chart.lock", data); err != nil {
			return err
		}
	}
	for _, f := range ch.Raw {
		if f.Name == "values.yaml" {
			if err := writeFile(tw, base+"values.yaml", f.Data); err != nil {
				return err
			}
			break
		}
	}
	if ch.Schema != nil {
		if !json.Valid(ch.Schema) {
			return fmt.Errorf("chart '%s': values.schema.json is not valid JSON", ch.Name())
		}
		if err := writeFile(tw, base+"values.schema.json", ch.Schema); err != nil {
			return err
		}
	}
	for _, group := range [][]*hchart.File{ch.Templates, ch.Files} {
		sorted := slices.Clone(group)
		slices.SortFunc(sorted, func(a, b *hchart.File) int { return strings.Compare(a.Name, b.Name) })
		for _, f := range sorted {
			if _, err := entryName(f.Name); err != nil {
				return err
			}
			if err := writeFile(tw, base+f.Name, f.Data); err != nil {
				return err
			}
		}
	}
	deps := slices.Clone(ch.Dependencies())
	slices.SortFunc(deps, func(a, b *hchart.Chart) int { return strings.Compare(a.Name(), b.Name()) })
	for i, dep := range deps {
		if i > 0 && deps[i-1].Name() == dep.Name() {
			return fmt.Errorf("chart '%s' has two subcharts named '%s'", ch.Name(), dep.Name())
		}
		if err := writeChart(tw, dep, base+"charts/"); err != nil {
			return err
		}
	}
	return nil
}

// epoch is the modification time of every entry Package writes.
var epoch = time.Unix(0, 0)

func writeFile(tw *tar.Writer, name string, data []byte) error {
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     path.Clean(name),
		Mode:     0o644,
		Size:     int64(len(data)),
		ModTime:  epoch,
		Format:   tar.FormatPAX,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

// WithBuildMetadata returns version with meta appended as SemVer build metadata (after any
// build metadata it has), keeping only the characters build metadata allows.
func WithBuildMetadata(version, meta string) (string, error) {
	v, err := semver.StrictNewVersion(strings.TrimPrefix(version, "v"))
	if err != nil {
		if v, err = semver.NewVersion(version); err != nil {
			return "", fmt.Errorf("chart version '%s' is not SemVer", version)
		}
	}
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '-', r == '.':
			return r
		}
		return -1
	}, meta)
	clean = strings.Trim(clean, ".")
	if clean == "" {
		return "", errors.New("empty build metadata")
	}
	if m := v.Metadata(); m != "" {
		clean = m + "." + clean
	}
	nv, err := v.SetMetadata(clean)
	if err != nil {
		return "", err
	}
	return nv.Original(), nil
}
