package main

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	sourcev1 "weir.dev/api/source/v1"
)

// idle is W3: every Kustomization's interval becomes 1m; once they settled, it measures each
// controller's CPU per minute over the window while nothing changes, except one ConfigMap
// changed in the cluster at the start, whose reversion it times.
func (b *bench) idle(revision string) (*Idle, error) {
	logf("W3: setting every Kustomization's interval to 1m")
	start := time.Now()
	err := parallel(b.ctx, b.n, workers, func(i int) error {
		ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: appName(i)}}
		return b.c.Patch(b.ctx, ks, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"interval":"1m"}}`)))
	})
	if err != nil {
		return nil, fmt.Errorf("W3: %w", err)
	}
	if _, err := b.waitApplied(revision, start, b.poll()); err != nil {
		return nil, fmt.Errorf("W3: %w", err)
	}
	r := &Idle{SettleS: seconds(time.Since(start))}
	logf("W3: Ready at the new interval after %s; settling 30s, then measuring %s", dur(r.SettleS), b.cfg.w3Window)
	if err := sleep(b, 30*time.Second); err != nil {
		return nil, err
	}

	cpu := sampleCPU(b.env)
	windowStart := time.Now()
	// Drift: a change by another field manager to an applied field, which the next reconcile
	// of the app's Kustomization reverts.
	app := b.n / 2
	key := client.ObjectKey{Namespace: nsName(app), Name: cmName(1)}
	r.DriftObject = "ConfigMap " + key.String()
	drifted := time.Now()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	if err := b.c.Patch(b.ctx, cm, client.RawPatch(types.MergePatchType, []byte(`{"data":{"rev":"drift"}}`)), client.FieldOwner("bench-drift")); err != nil {
		return nil, fmt.Errorf("W3: changing %s: %w", key, err)
	}
	corrected := make(chan time.Duration, 1)
	go func() {
		// Within the interval, plus time for a busy controller to get to it.
		limit := time.Now().Add(2*time.Minute + b.cfg.w3Window)
		for time.Now().Before(limit) && b.ctx.Err() == nil {
			var cm corev1.ConfigMap
			if err := b.c.Get(b.ctx, key, &cm); err == nil && cm.Data["rev"] != "drift" {
				corrected <- time.Since(drifted)
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
		corrected <- -1
	}()
	if err := sleep(b, b.cfg.w3Window); err != nil {
		return nil, err
	}
	r.CPU = cpu.since(b.env)
	window := time.Since(windowStart)
	r.WindowS = seconds(window)
	minutes := window.Minutes()
	r.CPUPerMinute = CPU{Source: round2(r.CPU.Source / minutes), Kustomize: round2(r.CPU.Kustomize / minutes), Helm: round2(r.CPU.Helm / minutes)}
	r.PeakRSS = peakRSS(b.env)
	d := <-corrected
	r.DriftCorrectedS = seconds(d)
	if d < 0 {
		r.DriftCorrectedS = -1
		logf("W3: %s was NOT reverted", r.DriftObject)
	} else {
		logf("W3: %s reverted after %s", r.DriftObject, d.Round(10*time.Millisecond))
	}
	logf("W3: per minute: kustomize-controller %.2f CPU s, source-controller %.2f CPU s", r.CPUPerMinute.Kustomize, r.CPUPerMinute.Source)
	if d < 0 {
		return r, fmt.Errorf("W3: drift of %s not corrected", key)
	}
	return r, nil
}

// sleep waits d unless the harness is interrupted.
func sleep(b *bench, d time.Duration) error {
	select {
	case <-b.ctx.Done():
		return b.ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// prune is W4: one commit deletes cm-05 … cm-09 from every app; it times until every
// Kustomization is Ready at that revision and the 5·N ConfigMaps are gone.
func (b *bench) prune(g *gitServer) (*Prune, error) {
	const from = 5
	if err := g.dropConfigMaps(b.n, from); err != nil {
		return nil, err
	}
	logf("W4: deleting %s … %s from %d apps", cmName(from), cmName(configMapsPerApp-1), b.n)
	cpu := sampleCPU(b.env)
	start := time.Now()
	rev, err := g.commitAndPush(b.ctx, "delete half of the ConfigMaps")
	if err != nil {
		return nil, err
	}
	src := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: gitRepositoryName}}
	if err := b.requestReconcile(src, newToken()); err != nil {
		return nil, err
	}
	r := &Prune{Revision: rev, Deleted: (configMapsPerApp - from) * b.n}
	var allReady, pruned time.Duration
	interval := max(b.poll(), 500*time.Millisecond)
	err = b.waitFor(fmt.Sprintf("%d Kustomizations Ready at %s and %d ConfigMaps pruned", b.n, rev, r.Deleted), interval, func() (bool, string, error) {
		var missing []string
		if allReady == 0 {
			var list kustomizev1.KustomizationList
			if err := b.c.List(b.ctx, &list, client.InNamespace(benchNamespace)); err != nil {
				return false, "", err
			}
			var report notReadyReport
			for i := range list.Items {
				if err := appliedErr(&list.Items[i], rev); err != nil {
					report.add("Kustomization "+list.Items[i].Name, err)
				}
			}
			if report.count == 0 && len(list.Items) == b.n {
				allReady = time.Since(start)
			} else {
				missing = append(missing, report.String())
			}
		}
		if pruned == 0 {
			// Metadata only: a cluster-wide list of the ConfigMaps' full contents would weigh on
			// the API server and this process.
			var list metav1.PartialObjectMetadataList
			list.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ConfigMapList"))
			if err := b.c.List(b.ctx, &list); err != nil {
				return false, "", err
			}
			left := 0
			for _, cm := range list.Items {
				if strings.HasPrefix(cm.Namespace, "ns-") && cm.Name >= cmName(from) && cm.Name <= cmName(configMapsPerApp-1) {
					left++
				}
			}
			if left == 0 {
				pruned = time.Since(start)
			} else {
				missing = append(missing, fmt.Sprintf("%d of the %d ConfigMaps not pruned", left, r.Deleted))
			}
		}
		return allReady > 0 && pruned > 0, strings.Join(missing, "; "), nil
	})
	if err != nil {
		return nil, fmt.Errorf("W4: %w", err)
	}
	r.WallS = seconds(time.Since(start))
	r.AllReadyS, r.PrunedS = seconds(allReady), seconds(pruned)
	r.CPU = cpu.since(b.env)
	r.PeakRSS = peakRSS(b.env)
	logf("W4: %d ConfigMaps pruned and %d Kustomizations Ready at %s in %s; kustomize-controller %.1f CPU s", r.Deleted, b.n, rev, dur(r.WallS), r.CPU.Kustomize)
	return r, nil
}
