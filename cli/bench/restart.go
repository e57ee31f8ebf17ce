package main

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
)

// Restart is W6: kustomize-controller stopped with SIGTERM and started again with the same
// flags, after W1 converged.
type Restart struct {
	// StartS is how long the new process took to answer /readyz, WallS how long from its start
	// until every Kustomization had reconciled once (status.history's run count moved).
	StartS float64 `json:"startSeconds"`
	WallS  float64 `json:"wallSeconds"`
	CPU    CPU     `json:"cpuSeconds"`
	// Requests are kube-apiserver's apiserver_request_total increases during the phase, by
	// "VERB resource[/subresource]" ("+dryRun" for dry runs), of configmaps and
	// kustomizations (the harness's own LISTs of kustomizations are in it too).
	Requests map[string]float64 `json:"requests"`
	// RequestsPerKustomization counts the requests about managed objects (every configmaps
	// request) and Kustomizations' status patches, divided by N.
	RequestsPerKustomization float64 `json:"requestsPerKustomization"`
	// ChangedObjects is how many of the 10·N ConfigMaps have another resourceVersion after the
	// phase than before it: the writes to managed objects.
	ChangedObjects int `json:"changedObjects"`
	Objects        int `json:"objects"`
	PeakRSS        RSS `json:"peakRSSMiB"`
}

// restart runs W6.
func (b *bench) restart() (*Restart, error) {
	before, err := b.configMapVersions()
	if err != nil {
		return nil, err
	}
	runs, err := b.runCounts()
	if err != nil {
		return nil, err
	}
	logf("W6: stopping kustomize-controller (SIGTERM)")
	if err := b.env.StopController(kustomizeController); err != nil {
		return nil, err
	}
	metricsBefore, err := b.requestTotals()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := b.env.StartController(b.ctx, kustomizeController); err != nil {
		return nil, err
	}
	// The new process's CPU is all its own: sampled from its start.
	cpu := cpuSample{kustomizeController: 0}
	for k, v := range sampleCPU(b.env) {
		if k != kustomizeController {
			cpu[k] = v
		}
	}
	r := &Restart{StartS: seconds(time.Since(start))}
	err = b.waitFor(fmt.Sprintf("%d Kustomizations reconciled after the restart", b.n), b.poll(), func() (bool, string, error) {
		now, err := b.runCounts()
		if err != nil {
			return false, "", err
		}
		var report notReadyReport
		for name, n := range runs {
			if now[name] <= n {
				report.add("Kustomization "+name, fmt.Errorf("not reconciled since the restart"))
			}
		}
		return report.count == 0, report.String(), nil
	})
	if err != nil {
		return nil, fmt.Errorf("W6: %w", err)
	}
	r.WallS = seconds(time.Since(start))
	r.CPU = cpu.since(b.env)
	metricsAfter, err := b.requestTotals()
	if err != nil {
		return nil, err
	}
	after, err := b.configMapVersions()
	if err != nil {
		return nil, err
	}
	r.Requests = map[string]float64{}
	var managed float64
	for k, v := range metricsAfter {
		if d := v - metricsBefore[k]; d > 0 {
			r.Requests[k] = d
			if strings.Contains(k, " configmaps") || strings.HasPrefix(k, "PATCH kustomizations/status") {
				managed += d
			}
		}
	}
	r.RequestsPerKustomization = round2(managed / float64(b.n))
	r.Objects = len(before)
	for k, v := range before {
		if after[k] != v {
			r.ChangedObjects++
		}
	}
	r.PeakRSS = peakRSS(b.env)
	logf("W6: %d Kustomizations reconciled %s after the restart (ready in %s); kustomize-controller %.1f CPU s; %.2f requests per Kustomization %v; %d of %d ConfigMaps written",
		b.n, dur(r.WallS), dur(r.StartS), r.CPU.Kustomize, r.RequestsPerKustomization, r.Requests, r.ChangedObjects, r.Objects)
	return r, nil
}

// runCounts is, by Kustomization, how many runs status.history's newest entry counts.
func (b *bench) runCounts() (map[string]int64, error) {
	var list kustomizev1.KustomizationList
	if err := b.c.List(b.ctx, &list, client.InNamespace(benchNamespace)); err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(list.Items))
	for _, ks := range list.Items {
		var n int64
		if len(ks.Status.History) > 0 {
			n = ks.Status.History[0].TotalReconciliations
		}
		out[ks.Name] = n
	}
	return out, nil
}

// configMapVersions is the resourceVersion of every ConfigMap the fleet applied, by
// namespace/name.
func (b *bench) configMapVersions() (map[string]string, error) {
	out := map[string]string{}
	for i := range b.n {
		var list corev1.ConfigMapList
		if err := b.c.List(b.ctx, &list, client.InNamespace(nsName(i))); err != nil {
			return nil, err
		}
		for _, cm := range list.Items {
			if cm.Name == "kube-root-ca.crt" {
				continue
			}
			out[cm.Namespace+"/"+cm.Name] = cm.ResourceVersion
		}
	}
	return out, nil
}

// requestTotals reads kube-apiserver's apiserver_request_total for configmaps and
// kustomizations, summed by "VERB resource[/subresource][+dryRun]".
func (b *bench) requestTotals() (map[string]float64, error) {
	cs, err := kubernetes.NewForConfig(b.restConfig)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	raw, err := cs.RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading kube-apiserver's /metrics: %w", err)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, "apiserver_request_total{")
		if !ok {
			continue
		}
		labelText, value, ok := strings.Cut(rest, "} ")
		if !ok {
			continue
		}
		labels := map[string]string{}
		for _, kv := range strings.Split(labelText, ",") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				labels[k] = strings.Trim(v, `"`)
			}
		}
		if labels["resource"] != "configmaps" && labels["resource"] != "kustomizations" {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		key := labels["verb"] + " " + labels["resource"]
		if labels["subresource"] != "" {
			key += "/" + labels["subresource"]
		}
		if labels["dry_run"] != "" {
			key += "+dryRun"
		}
		out[key] += v
	}
	return out, sc.Err()
}
