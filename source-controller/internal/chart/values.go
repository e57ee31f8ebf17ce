package chart

import (
	"fmt"

	hchart "helm.sh/helm/v3/pkg/chart"
	"sigs.k8s.io/yaml"
)

// ValuesFile is one values file to merge: its name, for messages, and its content.
type ValuesFile struct {
	Name string
	Data []byte
}

// MergeValues merges files in order, later files winning: maps merge key by key, at any
// depth; any other value (lists included) replaces the earlier one. It returns the merged
// values as YAML.
func MergeValues(files []ValuesFile) ([]byte, map[string]any, error) {
	merged := map[string]any{}
	for _, f := range files {
		var v map[string]any
		if err := yaml.Unmarshal(f.Data, &v); err != nil {
			return nil, nil, fmt.Errorf("values file '%s' is not a YAML map: %s", f.Name, firstLine(err.Error()))
		}
		merged = mergeMaps(merged, v)
	}
	data, err := yaml.Marshal(merged)
	if err != nil {
		return nil, nil, err
	}
	return data, merged, nil
}

func mergeMaps(base, overlay map[string]any) map[string]any {
	out := make(map[string]any, len(base))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range overlay {
		if om, ok := v.(map[string]any); ok {
			if bm, ok := out[k].(map[string]any); ok {
				out[k] = mergeMaps(bm, om)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// SetValues replaces the chart's default values (values.yaml) with data, parsed as values.
func SetValues(ch *hchart.Chart, data []byte, values map[string]any) {
	ch.Values = values
	for _, f := range ch.Raw {
		if f.Name == "values.yaml" {
			f.Data = data
			return
		}
	}
	ch.Raw = append(ch.Raw, &hchart.File{Name: "values.yaml", Data: data})
}

// RawFile returns the content of the chart's file name (relative to the chart's root), and
// whether it exists.
func RawFile(ch *hchart.Chart, name string) ([]byte, bool) {
	for _, f := range ch.Raw {
		if f.Name == name {
			return f.Data, true
		}
	}
	return nil, false
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
