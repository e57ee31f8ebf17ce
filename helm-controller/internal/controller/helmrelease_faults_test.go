package controller

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/artifact"
)

// TestChartArtifactFaultsRetriedWithBackoff: the server of a new chart version is slow
// (answers after the fetch timeout), drops connections, or serves a wrong body (digest
// mismatch) a few times. The HelmRelease, whose interval is an hour, is retried with backoff
// and upgrades exactly once; the wrong chart is never installed, the release is never rolled
// back or uninstalled, and each failure is logged naming the object, the artifact host and
// the attempt.
func TestChartArtifactFaultsRetriedWithBackoff(t *testing.T) {
	t.Parallel()
	wrong := packageChart(t, testChart{version: "1.1.0", files: map[string]string{
		"templates/evil.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: evil}\ndata: {value: wrong}\n",
	}})
	cases := []struct {
		name    string
		fault   fault
		timeout time.Duration // spec.timeout, which bounds each download
		message string        // in the failure's message
	}{
		{name: "slow", fault: fault{count: 2, delay: time.Minute}, timeout: 3 * time.Second, message: "context deadline exceeded"},
		// The fetcher retries once within a run (Retries: 1), so 4 drops fail 2 runs.
		{name: "drops", fault: fault{count: 4, drop: true}, timeout: 20 * time.Second, message: "EOF"},
		{name: "wrong body", fault: fault{count: 2, body: wrong}, timeout: 20 * time.Second, message: "digest mismatch"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			ns := env.Namespace(t)
			publishChart(t, ns, "chart", testChart{version: "1.0.0"})
			hr := createHelmRelease(t, ns, "app", func(hr *helmv1.HelmRelease) {
				hr.Spec.Interval = metav1.Duration{Duration: time.Hour}
				hr.Spec.Timeout = &metav1.Duration{Duration: tc.timeout}
			})
			waitReleased(t, hr, helmv1.InstallSucceededReason, "1.0.0")

			hc := &sourcev1.HelmChart{}
			if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "chart"}, hc); err != nil {
				t.Fatal(err)
			}
			a := artifacts.store(t, "/helmchart/"+ns+"/chart", "1.1.0", packageChart(t, testChart{version: "1.1.0"}))
			artifacts.spoil(a.Path, tc.fault)
			hc.Status.Artifact, hc.Status.URL = a, a.URL
			markSourceReady(t, hc, &hc.Status.ObservedGeneration, &hc.Status.Conditions, "packaged chart version 1.1.0")
			// With an hour-long interval, only the backoff can bring the new version in time.
			waitReleased(t, hr, helmv1.UpgradeSucceededReason, "1.1.0")

			if left := artifacts.faultsLeft(a.Path); left != 0 {
				t.Fatalf("%d spoiled requests were never made: the faults did not happen", left)
			}
			if n := artifacts.requestsOf(a.Path); n <= tc.fault.count {
				t.Fatalf("%d requests of the artifact, want more than the %d spoiled ones", n, tc.fault.count)
			}
			wantRevisions(t, ns, "app", "1:superseded", "2:deployed")
			if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "evil"}, &corev1.ConfigMap{}); !apierrors.IsNotFound(err) {
				t.Errorf("ConfigMap evil of the wrong chart: %v, want not found", err)
			}
			waitEvent(t, ns, "app", corev1.EventTypeWarning, meta.ArtifactFailedReason, tc.message)

			lines := helmRetryLogs(ns, "app", meta.ArtifactFailedReason)
			if len(lines) == 0 {
				t.Fatal("no retry log line for the failed downloads")
			}
			host := artifact.Host(artifacts.base)
			for i, l := range lines {
				if l["host"] != host || l["revision"] != "1.1.0" || l["attempt"] != float64(i+1) || l["retryIn"] == "" ||
					!strings.Contains(fmt.Sprint(l["error"]), tc.message) {
					t.Errorf("retry log line %d: %v; want host %s, revision 1.1.0, attempt %d, retryIn and %q", i+1, l, host, i+1, tc.message)
				}
			}
		})
	}
}

// helmRetryLogs are the controller's "retrying with backoff" log lines of HelmRelease ns/name
// with reason, oldest first.
func helmRetryLogs(ns, name, reason string) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l map[string]any
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			continue
		}
		if l["namespace"] == ns && l["name"] == name && l["reason"] == reason &&
			strings.Contains(fmt.Sprint(l["msg"]), "retrying with backoff") {
			out = append(out, l)
		}
	}
	return out
}
