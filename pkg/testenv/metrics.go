package testenv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// ServeMetrics serves controller-runtime's metrics registry, which holds every metric the
// controllers of this process export, with controller-runtime's metrics server on a free port
// of 127.0.0.1 (as --metrics-addr does) until the test ends. It returns the /metrics URL.
func ServeMetrics(t testing.TB) string {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", FreePort(t))
	srv, err := metricsserver.NewServer(metricsserver.Options{BindAddress: addr}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Start(ctx); err != nil {
			t.Errorf("metrics server: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	url := "http://" + addr + "/metrics"
	Eventually(t, 30*time.Second, func() error { _, err := ScrapeMetrics(url); return err })
	return url
}

// Scrape is one scrape of a /metrics endpoint, by metric family name.
type Scrape map[string]*dto.MetricFamily

// ScrapeMetrics GETs url and parses the Prometheus text format.
func ScrapeMetrics(url string) (Scrape, error) {
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(resp.Body)
	return Scrape(families), err
}

// Value returns the value of the series of family name whose labels include labels: a gauge's
// or a counter's value, a histogram's sample count. ok is false when there is no such series.
func (s Scrape) Value(name string, labels map[string]string) (v float64, ok bool) {
	f := s[name]
	if f == nil {
		return 0, false
	}
series:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, want := range labels {
			if have[k] != want {
				continue series
			}
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		case m.Untyped != nil:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

// CheckValue fails unless the series of name with labels exists and check accepts its value;
// what describes the expectation in the error.
func (s Scrape) CheckValue(name string, labels map[string]string, what string, check func(float64) bool) error {
	v, ok := s.Value(name, labels)
	if !ok {
		return fmt.Errorf("no series %s%v in the scrape", name, labels)
	}
	if !check(v) {
		return fmt.Errorf("%s%v is %v, want %s", name, labels, v, what)
	}
	return nil
}

// Series is one expectation of a scrape: the series of Name whose labels include Labels has a
// value Want accepts.
type Series struct {
	Name   string
	Labels map[string]string
	Want   ValueCheck
}

// Expect is Series{name, labels, want}.
func Expect(name string, labels map[string]string, want ValueCheck) Series {
	return Series{Name: name, Labels: labels, Want: want}
}

// ValueCheck accepts a value; What describes it.
type ValueCheck struct {
	What  string
	Check func(float64) bool
}

// Is accepts v only.
func Is(v float64) ValueCheck {
	return ValueCheck{fmt.Sprint(v), func(got float64) bool { return got == v }}
}

// Above accepts values greater than v.
func Above(v float64) ValueCheck {
	return ValueCheck{fmt.Sprintf("above %v", v), func(got float64) bool { return got > v }}
}

// Check returns the first expectation the scrape does not meet, nil when it meets all.
func (s Scrape) Check(want []Series) error {
	for _, w := range want {
		if err := s.CheckValue(w.Name, w.Labels, w.Want.What, w.Want.Check); err != nil {
			return err
		}
	}
	return nil
}

// Names are the names of the scrape's samples as queries use them: a histogram's family
// gives name_bucket, name_sum and name_count, a summary's name, name_sum and name_count.
func (s Scrape) Names() []string {
	var out []string
	for name, f := range s {
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			out = append(out, name+"_bucket", name+"_sum", name+"_count")
		case dto.MetricType_SUMMARY:
			out = append(out, name, name+"_sum", name+"_count")
		default:
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// UpdateMetricsEnv, set to 1, makes CheckRecordedMetrics rewrite its file from the scrape.
const UpdateMetricsEnv = "WEIR_UPDATE_METRICS"

// CheckRecordedMetrics keeps file, the list of metric names one controller exports (one a line),
// honest: every name it lists must be in s, a real scrape of that controller. With
// WEIR_UPDATE_METRICS=1 it writes s's names to file instead. The dashboards' and alert rules'
// test (pkg/manifests) checks their queries against these files.
func CheckRecordedMetrics(t testing.TB, s Scrape, file string) {
	t.Helper()
	names := s.Names()
	if os.Getenv(UpdateMetricsEnv) == "1" {
		content := "# Written by the controller's metrics scrape test (WEIR_UPDATE_METRICS=1): the names of a real scrape.\n" + strings.Join(names, "\n") + "\n"
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	recorded, err := ReadMetricNames(file)
	if err != nil {
		t.Fatalf("%v (run the test with %s=1 to record it)", err, UpdateMetricsEnv)
	}
	var missing []string
	for _, n := range recorded {
		if !slices.Contains(names, n) {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%s lists metrics the controller's scrape lacks: %v (run the test with %s=1 to record it again)", file, missing, UpdateMetricsEnv)
	}
}

// ReadMetricNames reads a file CheckRecordedMetrics wrote.
func ReadMetricNames(file string) ([]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New(file + " lists no metric")
	}
	return out, nil
}
