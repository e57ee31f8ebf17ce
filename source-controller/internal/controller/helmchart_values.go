package controller

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	hchart "helm.sh/helm/v3/pkg/chart"

	"weir.dev/source-controller/internal/chart"
)

// valuesFromChart reads values files from inside a pulled chart. A missing file is an error,
// unless ignoreMissing; found lists those read.
func valuesFromChart(ch *hchart.Chart, paths []string, ignoreMissing bool) ([]chart.ValuesFile, []string, error) {
	var files []chart.ValuesFile
	var found []string
	for _, p := range paths {
		clean, err := confinedPath(p)
		if err != nil {
			return nil, nil, fmt.Errorf("values file '%s': %w", p, err)
		}
		data, ok := chart.RawFile(ch, clean)
		if !ok {
			if ignoreMissing {
				continue
			}
			return nil, nil, fmt.Errorf("values file '%s' does not exist in chart '%s'", p, ch.Name())
		}
		files = append(files, chart.ValuesFile{Name: p, Data: data})
		found = append(found, p)
	}
	return files, found, nil
}

// valuesFromSource reads values files relative to the source's root through an os.Root, so no
// path or link can leave it, each within the per-file limit. A missing file is an error, unless
// ignoreMissing; found lists those read.
func (r *HelmChartReconciler) valuesFromSource(root string, paths []string, ignoreMissing bool) ([]chart.ValuesFile, []string, error) {
	if len(paths) == 0 {
		return nil, nil, nil
	}
	rt, err := os.OpenRoot(root)
	if err != nil {
		return nil, nil, err
	}
	defer rt.Close()
	var files []chart.ValuesFile
	var found []string
	for _, p := range paths {
		clean, err := confinedPath(p)
		if err != nil {
			return nil, nil, fmt.Errorf("values file '%s': %w", p, err)
		}
		f, err := rt.Open(clean)
		if errors.Is(err, fs.ErrNotExist) {
			if ignoreMissing {
				continue
			}
			return nil, nil, fmt.Errorf("values file '%s' does not exist in the source", p)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("values file '%s' cannot be read inside the source", p)
		}
		data, err := io.ReadAll(io.LimitReader(f, r.limits().MaxFileSize+1))
		f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("values file '%s' cannot be read: is it a file?", p)
		}
		if int64(len(data)) > r.limits().MaxFileSize {
			return nil, nil, fmt.Errorf("values file '%s' is larger than %d bytes", p, r.limits().MaxFileSize)
		}
		files = append(files, chart.ValuesFile{Name: p, Data: data})
		found = append(found, p)
	}
	return files, found, nil
}
