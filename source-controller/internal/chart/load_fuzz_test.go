package chart

import (
	"testing"

	hchart "helm.sh/helm/v3/pkg/chart"

	"weir.dev/source-controller/internal/helmtest"
)

// FuzzLoadArchive loads arbitrary bytes as a packaged chart under small limits. A chart it
// accepts, subcharts included, holds no file over the per-file limit, no more bytes than the
// total limit, and only names that are safe as one path segment.
func FuzzLoadArchive(f *testing.F) {
	lim := Limits{MaxSize: 64 << 10, MaxFileSize: 16 << 10}
	sub := helmtest.TarGz(f, chartYAML("sub"), helmtest.Entry{Name: "sub/values.yaml", Body: "a: 1\n"})
	f.Add(helmtest.TarGz(f, chartYAML("app"), helmtest.Entry{Name: "app/values.yaml", Body: "replicas: 1\n"},
		helmtest.Entry{Name: "app/templates/cm.yaml", Body: "kind: ConfigMap\nmetadata: {name: {{ .Release.Name }}}\n"}))
	f.Add(helmtest.TarGz(f, chartYAML("app"), helmtest.Entry{Name: "app/charts/sub-1.0.0.tgz", Body: string(sub)}))
	f.Add(helmtest.TarGz(f, chartYAML("app"), helmtest.Entry{Name: "app/charts/sub.tgz", Body: string(sub)},
		helmtest.Entry{Name: "app/charts/sub/Chart.yaml", Body: "name: clash\n"}))
	f.Add(helmtest.TarGz(f, chartYAML("app"), helmtest.Entry{Name: "app/../../evil", Body: "x"}))
	f.Add(helmtest.TarGz(f, helmtest.Entry{Name: "x/Chart.yaml", Body: "apiVersion: v2\nname: ..\nversion: 1.0.0\n"}))
	f.Add(helmtest.TarGz(f, chartYAML("app"), helmtest.Entry{Name: "app/big", Size: 20 << 10}))
	f.Add(helmtest.TarGz(f, chartYAML("app"), helmtest.Entry{Name: "app/l", Type: '2', Linkname: "/etc/passwd"}))
	f.Add([]byte("not gzip"))

	f.Fuzz(func(t *testing.T, data []byte) {
		ch, err := LoadArchive(data, lim)
		if err != nil {
			return
		}
		var total int64
		var walk func(c *hchart.Chart)
		walk = func(c *hchart.Chart) {
			if err := ValidateName(c.Name()); err != nil {
				t.Errorf("accepted a chart with an unsafe name: %v", err)
			}
			for _, file := range c.Raw {
				if int64(len(file.Data)) > lim.MaxFileSize {
					t.Errorf("%s: %d bytes, over the per-file limit", file.Name, len(file.Data))
				}
				total += int64(len(file.Data))
			}
			for _, d := range c.Dependencies() {
				walk(d)
			}
		}
		walk(ch)
		if total > lim.MaxSize {
			t.Errorf("the chart holds %d bytes, over the limit of %d", total, lim.MaxSize)
		}
	})
}
