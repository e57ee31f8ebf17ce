package main

import (
	"fmt"
	"slices"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/cli/internal/local"
)

// The chart W5 installs: a Deployment, a Service and a ConfigMap.
const (
	chartName    = "bench-app"
	chartVersion = "0.1.0"
)

var chartFiles = map[string]string{
	"Chart.yaml": `apiVersion: v2
name: bench-app
description: The chart of Weir's Helm benchmark (W5)
version: 0.1.0
appVersion: "1.0.0"
`,
	"values.yaml": `image: registry.k8s.io/pause:3.10
message: hello
`,
	"templates/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels:
    app.kubernetes.io/name: {{ .Release.Name }}
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {{ .Release.Name }}
    spec:
      containers:
        - name: app
          image: {{ .Values.image }}
          ports:
            - containerPort: 8080
`,
	"templates/service.yaml": `apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
spec:
  selector:
    app.kubernetes.io/name: {{ .Release.Name }}
  ports:
    - port: 80
      targetPort: 8080
`,
	"templates/configmap.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
  message: {{ .Values.message | quote }}
`,
}

// helmRepositoryName is the HelmRepository every HelmRelease installs from.
const helmRepositoryName = "bench"

// startChartRepository serves a Helm repository holding the benchmark's chart on 127.0.0.1 and
// returns its URL.
func (b *bench) startChartRepository() (string, error) {
	url, stop, err := local.ServeChart(chartName, chartVersion, chartFiles)
	if err != nil {
		return "", err
	}
	b.closers = append(b.closers, stop)
	return url, nil
}

func releaseNamespace(i int) string { return fmt.Sprintf("helm-%03d", i) }
func releaseName(i int) string      { return fmt.Sprintf("hr-%03d", i) }

// runHelm is W5: N HelmReleases of the chart, each into its own namespace, created at once
// until all are Ready; then a reconcile request to all of them with nothing changed.
func (b *bench) runHelm(er *EnvResult) error {
	url, err := b.startChartRepository()
	if err != nil {
		return err
	}
	repo := &sourcev1.HelmRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: helmRepositoryName},
		Spec:       sourcev1.HelmRepositorySpec{URL: url, Interval: &metav1.Duration{Duration: 10 * time.Minute}},
	}
	if err := b.c.Create(b.ctx, repo); err != nil {
		return fmt.Errorf("creating the HelmRepository: %w", err)
	}
	err = b.waitFor("HelmRepository "+helmRepositoryName, 100*time.Millisecond, func() (bool, string, error) {
		if err := b.c.Get(b.ctx, client.ObjectKeyFromObject(repo), repo); err != nil {
			return false, "", err
		}
		if err := readyErr(repo); err != nil {
			return false, err.Error(), nil
		}
		return true, "", nil
	})
	if err != nil {
		return err
	}
	if err := b.createNamespaces(b.n, releaseNamespace); err != nil {
		return err
	}
	// Without a simulated node no Pod runs, so a release waiting for its Deployment never
	// becomes Ready.
	noWait := !b.env.HasNode || b.cfg.helmNoWait
	r := &Helm{Releases: b.n, DisableWait: noWait}

	logf("W5: creating %d HelmReleases of %s %s from %s", b.n, chartName, chartVersion, url)
	cpu := sampleCPU(b.env)
	start := time.Now()
	err = parallel(b.ctx, b.n, workers, func(i int) error {
		hr := &helmv1.HelmRelease{
			ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: releaseName(i)},
			Spec: helmv1.HelmReleaseSpec{
				Interval:        metav1.Duration{Duration: 10 * time.Minute},
				TargetNamespace: releaseNamespace(i),
				Chart: &helmv1.HelmChartTemplate{Spec: helmv1.HelmChartTemplateSpec{
					Chart:     chartName,
					Version:   chartVersion,
					SourceRef: helmv1.CrossNamespaceObjectReference{Kind: sourcev1.HelmRepositoryKind, Name: helmRepositoryName},
				}},
				Values: &apiextensionsv1.JSON{Raw: fmt.Appendf(nil, `{"message":"release %d"}`, i)},
			},
		}
		if noWait {
			hr.Spec.Install = &helmv1.Install{DisableWait: true}
			hr.Spec.Upgrade = &helmv1.Upgrade{DisableWait: true}
		}
		if err := b.c.Create(b.ctx, hr); err != nil {
			return fmt.Errorf("creating HelmRelease %s: %w", hr.Name, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	firstSeen, err := b.waitReleases("", start)
	if err != nil {
		return fmt.Errorf("W5: %w", err)
	}
	r.InstallS = seconds(time.Since(start))
	r.InstallCPU = cpu.since(b.env)
	r.PeakRSS = peakRSS(b.env)
	r.PerReleaseS = round2(r.InstallS / float64(b.n))
	slices.Sort(firstSeen)
	r.P50S, r.P90S = round2(quantile(firstSeen, 0.5)), round2(quantile(firstSeen, 0.9))
	logf("W5: %d HelmReleases Ready in %s (%.3f s each); helm-controller %.1f CPU s, source-controller %.1f CPU s, peak RSS %.0f MiB",
		b.n, dur(r.InstallS), r.PerReleaseS, r.InstallCPU.Helm, r.InstallCPU.Source, r.PeakRSS.Helm)

	// Recorded now: the install's figures stand even when the reconcile request fails.
	er.W5 = r

	if err := sleep(b, 3*time.Second); err != nil {
		return err
	}
	logf("W5: requesting a reconcile of every HelmRelease, nothing changed")
	cpu = sampleCPU(b.env)
	start = time.Now()
	token := newToken()
	err = parallel(b.ctx, b.n, workers, func(i int) error {
		return b.requestReconcile(&helmv1.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: releaseName(i)}}, token)
	})
	if err != nil {
		return err
	}
	if _, err := b.waitReleases(token, start); err != nil {
		return fmt.Errorf("W5 reconcile: %w", err)
	}
	r.ReconcileS = seconds(time.Since(start))
	r.ReconcileCPU = cpu.since(b.env)
	logf("W5: every HelmRelease handled the request and is Ready after %s; helm-controller %.1f CPU s",
		dur(r.ReconcileS), r.ReconcileCPU.Helm)
	return nil
}

// waitReleases lists the HelmReleases until all N are Ready for their generation, having
// handled the reconcile request token when it is not empty. It returns when each was first
// seen so, in seconds from start.
func (b *bench) waitReleases(token string, start time.Time) ([]float64, error) {
	firstSeen := map[string]float64{}
	what := fmt.Sprintf("%d HelmReleases Ready", b.n)
	if token != "" {
		what += " having handled the reconcile request " + token
	}
	err := b.waitFor(what, b.poll(), func() (bool, string, error) {
		var list helmv1.HelmReleaseList
		if err := b.c.List(b.ctx, &list, client.InNamespace(benchNamespace)); err != nil {
			return false, "", err
		}
		var report notReadyReport
		for i := range list.Items {
			hr := &list.Items[i]
			if token != "" && hr.Status.LastHandledReconcileAt != token {
				report.add("HelmRelease "+hr.Name, fmt.Errorf("reconcile request not handled yet (last handled %q)", hr.Status.LastHandledReconcileAt))
				continue
			}
			if err := readyErr(hr); err != nil {
				report.add("HelmRelease "+hr.Name, err)
				continue
			}
			if _, ok := firstSeen[hr.Name]; !ok {
				firstSeen[hr.Name] = time.Since(start).Seconds()
			}
		}
		if missing := b.n - len(list.Items); missing > 0 {
			report.count += missing
			report.first = append(report.first, fmt.Sprintf("%d HelmReleases not found", missing))
		}
		return report.count == 0, report.String(), nil
	})
	times := make([]float64, 0, len(firstSeen))
	for _, s := range firstSeen {
		times = append(times, s)
	}
	return times, err
}
