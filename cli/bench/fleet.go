package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	sourcev1 "weir.dev/api/source/v1"
	weirscheme "weir.dev/pkg/scheme"
)

// gitRepositoryName is the GitRepository every Kustomization applies from.
const gitRepositoryName = "bench"

// runFleet sets up the Git repository and the GitRepository of N apps, then runs W1 (always:
// W2–W4 need the applied fleet, but its figures are recorded only when W1 is selected), the
// raw apply baseline next to W1, then W2, W3 and W4.
func (b *bench) runFleet(er *EnvResult, workloads []string) error {
	g, revision, err := startGitServer(b.ctx, b.dir, b.n)
	if err != nil {
		return err
	}
	b.closers = append(b.closers, g.close)
	logf("Git repository of %d apps served at %s, revision %s", b.n, g.URL, revision)
	if err := b.createNamespaces(b.n, nsName); err != nil {
		return err
	}
	src := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: gitRepositoryName},
		Spec: sourcev1.GitRepositorySpec{
			URL:       g.URL,
			Interval:  metav1.Duration{Duration: time.Minute},
			Timeout:   &metav1.Duration{Duration: time.Minute},
			Reference: &sourcev1.GitRepositoryRef{Branch: "main"},
		},
	}
	if err := b.c.Create(b.ctx, src); err != nil {
		return fmt.Errorf("creating the GitRepository: %w", err)
	}
	if err := b.waitArtifact(revision); err != nil {
		return err
	}

	w1, err := b.fanOut(revision)
	if err != nil {
		return err
	}
	if slices.Contains(workloads, "W1") {
		er.W1 = w1
		// Its namespaces are deleted; only W2–W4 need to wait until they are gone.
		if er.Raw, err = b.rawApply(len(workloads) > 1); err != nil {
			return err
		}
	}
	if slices.Contains(workloads, "W6") {
		if er.W6, err = b.restart(); err != nil {
			return err
		}
	}
	if slices.Contains(workloads, "W2") {
		if er.W2, revision, err = b.commitToApplied(g, revision); err != nil {
			return err
		}
	}
	if slices.Contains(workloads, "W3") {
		if er.W3, err = b.idle(revision); err != nil {
			return err
		}
	}
	if slices.Contains(workloads, "W4") {
		if er.W4, err = b.prune(g); err != nil {
			return err
		}
	}
	return nil
}

// createNamespace creates namespace name; one that exists is fine.
func (b *bench) createNamespace(name string) error {
	err := b.c.Create(b.ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", name, err)
	}
	return nil
}

// createNamespaces creates namespaces name(0) … name(n-1).
func (b *bench) createNamespaces(n int, name func(int) string) error {
	return parallel(b.ctx, n, workers, func(i int) error { return b.createNamespace(name(i)) })
}

// waitArtifact waits until the GitRepository is Ready with an artifact of revision.
func (b *bench) waitArtifact(revision string) error {
	start := time.Now()
	err := b.waitFor("GitRepository "+gitRepositoryName+" at "+revision, 100*time.Millisecond, func() (bool, string, error) {
		var src sourcev1.GitRepository
		if err := b.c.Get(b.ctx, client.ObjectKey{Namespace: benchNamespace, Name: gitRepositoryName}, &src); err != nil {
			return false, "", err
		}
		if err := readyErr(&src); err != nil {
			return false, err.Error(), nil
		}
		if a := src.Status.Artifact; a == nil || a.Revision != revision {
			return false, fmt.Sprintf("artifact %+v", a), nil
		}
		return true, "", nil
	})
	if err == nil {
		logf("GitRepository %s Ready at %s (%s)", gitRepositoryName, revision, time.Since(start).Round(10*time.Millisecond))
	}
	return err
}

// kustomization is app i's Kustomization, as docs/benchmarks.md's common setup describes it.
func kustomization(i int) *kustomizev1.Kustomization {
	return &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: appName(i)},
		Spec: kustomizev1.KustomizationSpec{
			SourceRef:       kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: gitRepositoryName},
			Path:            "./apps/" + appName(i),
			Interval:        metav1.Duration{Duration: 10 * time.Minute},
			Prune:           true,
			TargetNamespace: nsName(i),
		},
	}
}

// appliedErr returns nil when ks is Ready for its generation having applied revision.
func appliedErr(ks *kustomizev1.Kustomization, revision string) error {
	if err := readyErr(ks); err != nil {
		return err
	}
	if ks.Status.LastAppliedRevision != revision {
		return fmt.Errorf("applied %q, not %q yet", ks.Status.LastAppliedRevision, revision)
	}
	return nil
}

// waitApplied lists the Kustomizations every interval until all n are Ready at revision, and
// returns when each was first seen so, measured from start.
func (b *bench) waitApplied(revision string, start time.Time, interval time.Duration) (map[string]time.Duration, error) {
	firstSeen := map[string]time.Duration{}
	err := b.waitFor(fmt.Sprintf("%d Kustomizations Ready at %s", b.n, revision), interval, func() (bool, string, error) {
		var list kustomizev1.KustomizationList
		if err := b.c.List(b.ctx, &list, client.InNamespace(benchNamespace)); err != nil {
			return false, "", err
		}
		var report notReadyReport
		for i := range list.Items {
			ks := &list.Items[i]
			if err := appliedErr(ks, revision); err != nil {
				report.add("Kustomization "+ks.Name, err)
				continue
			}
			if _, ok := firstSeen[ks.Name]; !ok {
				firstSeen[ks.Name] = time.Since(start)
			}
		}
		if missing := b.n - len(list.Items); missing > 0 {
			report.count += missing
			report.first = append(report.first, fmt.Sprintf("%d Kustomizations not found", missing))
		}
		return report.count == 0, report.String(), nil
	})
	return firstSeen, err
}

// fanOut is W1: it creates the N Kustomizations at once and waits until all have applied
// revision.
func (b *bench) fanOut(revision string) (*FanOut, error) {
	logf("W1: creating %d Kustomizations", b.n)
	cpu := sampleCPU(b.env)
	start := time.Now()
	err := parallel(b.ctx, b.n, workers, func(i int) error {
		if err := b.c.Create(b.ctx, kustomization(i)); err != nil {
			return fmt.Errorf("creating Kustomization %s: %w", appName(i), err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	created := time.Since(start)
	firstSeen, err := b.waitApplied(revision, start, b.poll())
	wall := time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("W1: %w", err)
	}
	r := &FanOut{Revision: revision, WallS: seconds(wall), CreateS: seconds(created), CPU: cpu.since(b.env), PeakRSS: peakRSS(b.env)}
	times := make([]float64, 0, len(firstSeen))
	for _, d := range firstSeen {
		times = append(times, d.Seconds())
	}
	slices.Sort(times)
	r.P50S, r.P90S, r.MaxS = round2(quantile(times, 0.5)), round2(quantile(times, 0.9)), round2(quantile(times, 1))
	r.PerKustomizationCPUms = round2(r.CPU.Kustomize * 1000 / float64(b.n))
	logf("W1: %d Kustomizations Ready at the revision in %s (p50 %s, p90 %s); kustomize-controller %.1f CPU s, source-controller %.1f CPU s, peak RSS %.0f MiB",
		b.n, dur(r.WallS), dur(r.P50S), dur(r.P90S), r.CPU.Kustomize, r.CPU.Source, r.PeakRSS.Kustomize)
	return r, nil
}

// rawApply is the physical-limit baseline: one client with the client-side rate limits Weir
// ships (pkg/app/options.go: --kube-api-qps 500, --kube-api-burst 1000) server-side applies the
// 10·N ConfigMaps of W1, one request each, from 4 workers, into namespaces raw-ns-XXX, which it
// then deletes; with waitDeleted, it waits until the namespaces are gone.
func (b *bench) rawApply(waitDeleted bool) (*RawApply, error) {
	const rawWorkers = 4
	rc := rest.CopyConfig(b.restConfig)
	rc.QPS, rc.Burst = 500, 1000
	c, err := client.New(rc, client.Options{Scheme: weirscheme.New()})
	if err != nil {
		return nil, err
	}
	rawNS := func(i int) string { return fmt.Sprintf("raw-ns-%03d", i) }
	if err := b.createNamespaces(b.n, rawNS); err != nil {
		return nil, err
	}
	objects := b.n * configMapsPerApp
	logf("raw apply: %d ConfigMaps, %d workers, QPS %.0f/burst %d", objects, rawWorkers, rc.QPS, rc.Burst)
	start := time.Now()
	err = parallel(b.ctx, objects, rawWorkers, func(k int) error {
		i, j := k/configMapsPerApp, k%configMapsPerApp
		cm := corev1ac.ConfigMap(cmName(j), rawNS(i)).WithData(configMapData(i, j, "0"))
		return c.Apply(b.ctx, cm, client.FieldOwner("bench-raw"), client.ForceOwnership)
	})
	wall := time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("raw apply: %w", err)
	}
	r := &RawApply{Objects: objects, Workers: rawWorkers, QPS: rc.QPS, Burst: rc.Burst, WallS: seconds(wall),
		ObjectsPerS: round2(float64(objects) / wall.Seconds())}
	logf("raw apply: %d ConfigMaps in %s: %.0f objects/s", objects, dur(r.WallS), r.ObjectsPerS)

	// Clean up, so that the namespaces' deletion does not load the API server during W2–W4.
	err = parallel(b.ctx, b.n, workers, func(i int) error {
		if err := b.c.DeleteAllOf(b.ctx, &corev1.ConfigMap{}, client.InNamespace(rawNS(i))); err != nil {
			return err
		}
		return client.IgnoreNotFound(b.c.Delete(b.ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: rawNS(i)}}))
	})
	if err != nil {
		return nil, fmt.Errorf("raw apply: cleaning up: %w", err)
	}
	if waitDeleted && b.env.HasNode {
		// Only kube-controller-manager finishes a namespace's deletion.
		err = b.waitFor("the raw-ns namespaces to be deleted", time.Second, func() (bool, string, error) {
			var list corev1.NamespaceList
			if err := b.c.List(b.ctx, &list); err != nil {
				return false, "", err
			}
			left := 0
			for _, ns := range list.Items {
				if strings.HasPrefix(ns.Name, "raw-ns-") {
					left++
				}
			}
			return left == 0, fmt.Sprintf("%d namespaces left", left), nil
		})
	}
	return r, err
}

// configMapData is the data of ConfigMap cm of app i, as configMapYAML writes it.
func configMapData(i, cm int, rev string) map[string]string {
	y := configMapYAML(i, cm, rev)
	_, payload, _ := strings.Cut(y, "  payload: |\n")
	var lines []string
	for _, l := range strings.Split(strings.TrimSuffix(payload, "\n"), "\n") {
		lines = append(lines, strings.TrimPrefix(l, "    "))
	}
	return map[string]string{"rev": rev, "payload": strings.Join(lines, "\n") + "\n"}
}

// commitToApplied is W2: five times, it changes data.rev of cm-00 in one app, commits, pushes
// and requests a reconcile of the GitRepository and of that app's Kustomization, then times
// until the new value is in the cluster. It returns the last revision.
func (b *bench) commitToApplied(g *gitServer, revision string) (*CommitToApplied, string, error) {
	const repetitions = 5
	app := 50
	if b.n <= 50 {
		app = b.n / 2
	}
	r := &CommitToApplied{App: appName(app)}
	key := client.ObjectKey{Namespace: nsName(app), Name: cmName(0)}
	src := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: gitRepositoryName}}
	ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: appName(app)}}
	cpu := sampleCPU(b.env)
	start := time.Now()
	for rep := 1; rep <= repetitions; rep++ {
		value := fmt.Sprintf("w2-%d", rep)
		t0 := time.Now()
		if err := g.setRev(app, 0, value); err != nil {
			return nil, "", err
		}
		rev, err := g.commitAndPush(b.ctx, fmt.Sprintf("%s: %s rev %s", appName(app), cmName(0), value))
		if err != nil {
			return nil, "", err
		}
		pushed := time.Since(t0)
		token := newToken()
		if err := b.requestReconcile(src, token); err != nil {
			return nil, "", err
		}
		if err := b.requestReconcile(ks, token); err != nil {
			return nil, "", err
		}
		// Every other poll also reads the GitRepository, to tell the source's share of the time.
		artifact, polls := time.Duration(-1), 0
		err = b.waitFor(fmt.Sprintf("ConfigMap %s rev %q", key, value), 20*time.Millisecond, func() (bool, string, error) {
			if polls++; artifact < 0 && polls%2 == 1 {
				var gr sourcev1.GitRepository
				if err := b.c.Get(b.ctx, client.ObjectKeyFromObject(src), &gr); err == nil && gr.Status.Artifact.HasRevision(rev) {
					artifact = time.Since(t0)
				}
			}
			var cm corev1.ConfigMap
			if err := b.c.Get(b.ctx, key, &cm); err != nil {
				return false, "", err
			}
			return cm.Data["rev"] == value, fmt.Sprintf("rev %q", cm.Data["rev"]), nil
		})
		if err != nil {
			return nil, "", fmt.Errorf("W2: %w", err)
		}
		applied := time.Since(t0)
		r.ValuesS = append(r.ValuesS, seconds(applied))
		r.PushS = append(r.PushS, seconds(pushed))
		artifactS, artifactMsg := -1.0, "not seen before"
		if artifact >= 0 {
			artifactS, artifactMsg = seconds(artifact), "seen after "+artifact.Round(10*time.Millisecond).String()
		}
		r.ArtifactS = append(r.ArtifactS, artifactS)
		if _, err := b.waitApplied(rev, t0, b.poll()); err != nil {
			return nil, "", fmt.Errorf("W2: converging: %w", err)
		}
		r.ConvergedS = append(r.ConvergedS, seconds(time.Since(t0)))
		logf("W2 #%d: %s applied in %s (pushed after %s, artifact %s); all %d Kustomizations at %s after %s", rep, value, applied.Round(10*time.Millisecond), pushed.Round(10*time.Millisecond), artifactMsg, b.n, rev, time.Since(t0).Round(10*time.Millisecond))
		revision = rev
		if rep < repetitions {
			time.Sleep(3 * time.Second)
		}
	}
	r.WallS = seconds(time.Since(start))
	r.CPU = cpu.since(b.env)
	r.PeakRSS = peakRSS(b.env)
	r.MedianS = round2(median(r.ValuesS))
	logf("W2: median %s; kustomize-controller %.1f CPU s, source-controller %.1f CPU s over %s", dur(r.MedianS), r.CPU.Kustomize, r.CPU.Source, dur(r.WallS))
	return r, revision, nil
}
