package faults

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/cli/internal/local"
)

// replicaObjects is how many ConfigMaps the commit adds: enough that applying them takes long
// enough to kill the leader in the middle.
const replicaObjects = 300

// TestStandbyReplicaFinishesTheApplyOfAKilledLeader runs a second kustomize-controller with
// leader election, pushes a commit adding a few hundred ConfigMaps and kills the leader with
// SIGKILL while it applies them. The standby takes the lease and finishes: every object at the
// new revision, the inventory complete, nothing pruned wrongly, and no object applied by both
// at once: the standby wrote nothing before the leader died (the proxy records who sent each
// write), each object was applied once, with one field manager.
func TestStandbyReplicaFinishesTheApplyOfAKilledLeader(t *testing.T) {
	ctx := context.Background()
	leader := controllerByName(t, "kustomize-controller")
	eventually(t, time.Minute, "the first kustomize-controller leads", func() error {
		if ok, err := isLeader(leader); !ok || err != nil {
			return fmt.Errorf("not leading (%v)", err)
		}
		return nil
	})
	standby, err := env.StartReplica(ctx, "kustomize-controller")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "the replica tries for the lease", func() error {
		b, err := os.ReadFile(standby.LogPath)
		if err != nil || !strings.Contains(strings.ToLower(string(b)), "attempting to acquire leader lease") {
			return fmt.Errorf("it has not logged an attempt yet (%v)", err)
		}
		return nil
	})
	if ok, err := isLeader(standby); ok || err != nil {
		t.Fatalf("the replica leads (%v) while the first one does", err)
	}
	before := map[string][]string{}
	for _, ks := range []string{"app", "app-staging", faultsKustomization} {
		before[ks] = inventoryIDs(t, ks)
	}

	// Both leading at once is the split brain this must never show.
	monitorCtx, stopMonitor := context.WithCancel(ctx)
	var both atomic.Int32
	var monitor sync.WaitGroup
	monitor.Go(func() {
		for monitorCtx.Err() == nil {
			a, errA := isLeader(leader)
			b, errB := isLeader(standby)
			if a && b && errA == nil && errB == nil {
				both.Add(1)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	defer func() { stopMonitor(); monitor.Wait() }()

	var many strings.Builder
	for i := range replicaObjects {
		many.WriteString(configMapYAML(fmt.Sprintf("replicas-%03d", i), fmt.Sprint(i), map[string]string{"faults.weir.dev/test": "replicas"}))
	}
	writeFile(t, "faults/replicas.yaml", many.String())
	writeFaultsKustomization(t)
	revision := pushAndReconcile(t, "Add many ConfigMaps for the replicas test")

	// Poll fast: kill as soon as the apply has begun.
	for deadline := time.Now().Add(time.Minute); replicaConfigMaps(t) == 0; time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("none of the ConfigMaps of %s applied within 1m", revision)
		}
	}
	killedAt := time.Now()
	if err := env.KillController("kustomize-controller"); err != nil {
		t.Fatal(err)
	}
	atKill := replicaConfigMaps(t)
	t.Logf("killed the leader with %d of %d ConfigMaps applied", atKill, replicaObjects)
	if atKill == replicaObjects {
		t.Fatalf("the leader applied all %d ConfigMaps before it was killed: the kill was not mid-apply", replicaObjects)
	}

	eventually(t, time.Minute, "the replica takes the lease", func() error {
		if ok, err := isLeader(standby); !ok || err != nil {
			return fmt.Errorf("not leading (%v)", err)
		}
		return nil
	})
	t.Logf("the replica leads %s after the kill", time.Since(killedAt).Round(100*time.Millisecond))
	eventually(t, 2*time.Minute, "the replica applies "+revision, func() error { return appliedErr(ctx, faultsKustomization, revision) })
	t.Logf("the replica applied %s %s after the kill", revision, time.Since(killedAt).Round(100*time.Millisecond))
	stopMonitor()
	monitor.Wait()
	if n := both.Load(); n > 0 {
		t.Errorf("both processes reported leading at once %d times", n)
	}

	if n := replicaConfigMaps(t); n != replicaObjects {
		t.Errorf("%d ConfigMaps after the takeover, want %d", n, replicaObjects)
	}
	// The inventory is complete, and lists each object once; nothing else was lost or pruned.
	got := checkInventory(t, faultsKustomization)
	if want := len(before[faultsKustomization]) + replicaObjects; len(got) != want {
		t.Errorf("Kustomization %s: %d inventory entries, want %d", faultsKustomization, len(got), want)
	}
	for _, ks := range []string{"app", "app-staging"} {
		if got := checkInventory(t, ks); fmt.Sprint(got) != fmt.Sprint(before[ks]) {
			t.Errorf("Kustomization %s: inventory %v, was %v", ks, got, before[ks])
		}
	}
	for _, cm := range kept {
		if _, err := configMapMessage(ctx, cm); err != nil {
			t.Errorf("ConfigMap %s of an earlier test: %v", cm, err)
		}
	}
	checkSingleManager(t)
	checkAppliedOnce(t, leader.Name, standby.Name, killedAt)

	// The new leader prunes them again.
	removeFile(t, "faults/replicas.yaml")
	writeFaultsKustomization(t)
	removed := pushAndReconcile(t, "Remove the replicas test's ConfigMaps")
	eventually(t, 2*time.Minute, "the replica applies "+removed, func() error { return appliedErr(ctx, faultsKustomization, removed) })
	eventually(t, time.Minute, "the ConfigMaps pruned", func() error {
		if n := replicaConfigMaps(t); n != 0 {
			return fmt.Errorf("%d left", n)
		}
		return nil
	})
	if got := checkInventory(t, faultsKustomization); fmt.Sprint(got) != fmt.Sprint(before[faultsKustomization]) {
		t.Errorf("Kustomization %s: inventory %v, was %v", faultsKustomization, got, before[faultsKustomization])
	}
}

// replicaConfigMaps counts the replicas test's ConfigMaps in the demo namespace.
func replicaConfigMaps(t *testing.T) int {
	t.Helper()
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ConfigMapList"))
	if err := env.Client.List(context.Background(), list, client.InNamespace(local.DemoNamespace),
		client.MatchingLabels{"faults.weir.dev/test": "replicas"}); err != nil {
		t.Fatal(err)
	}
	return len(list.Items)
}

// checkSingleManager fails t unless each of the test's ConfigMaps has exactly one field manager
// entry, an Apply.
func checkSingleManager(t *testing.T) {
	t.Helper()
	list := &corev1.ConfigMapList{}
	if err := env.Client.List(context.Background(), list, client.InNamespace(local.DemoNamespace),
		client.MatchingLabels{"faults.weir.dev/test": "replicas"}); err != nil {
		t.Fatal(err)
	}
	for _, cm := range list.Items {
		mf := cm.ManagedFields
		if len(mf) != 1 || mf[0].Operation != metav1.ManagedFieldsOperationApply {
			var entries []string
			for _, e := range mf {
				entries = append(entries, e.Manager+"/"+string(e.Operation))
			}
			t.Errorf("ConfigMap %s: field managers %v, want one Apply", cm.Name, entries)
		}
	}
}

// checkAppliedOnce fails t unless the proxy's record shows that the standby sent no write
// before the leader was killed, and that each ConfigMap was applied (a successful write that
// was no dry run) at most once in all, by either process; one object may lack a recorded
// apply, the one whose request the kill cut off after the API server had taken it.
func checkAppliedOnce(t *testing.T, leader, standby string, killedAt time.Time) {
	t.Helper()
	prefix := "/api/v1/namespaces/" + local.DemoNamespace + "/configmaps/replicas-"
	applied := map[string][]string{}
	for _, r := range proxy.Requests() {
		if r.Client == standby && r.Start.Before(killedAt) {
			t.Errorf("the standby sent %s %s before the leader was killed", r.Method, r.Path)
		}
		if (r.Client != leader && r.Client != standby) || r.Method != "PATCH" || r.DryRun || !strings.HasPrefix(r.Path, prefix) {
			continue
		}
		if r.Status >= 200 && r.Status < 300 {
			applied[r.Path] = append(applied[r.Path], r.Client)
		}
	}
	byLeader, byStandby, missing := 0, 0, 0
	for i := range replicaObjects {
		by := applied[fmt.Sprintf("%s%03d", prefix, i)]
		switch {
		case len(by) == 0:
			missing++
		case len(by) > 1:
			t.Errorf("replicas-%03d applied %d times, by %v", i, len(by), by)
		case by[0] == leader:
			byLeader++
		default:
			byStandby++
		}
	}
	t.Logf("applies recorded by the proxy: %d by the killed leader, %d by the standby, %d cut off by the kill", byLeader, byStandby, missing)
	if missing > 1 {
		t.Errorf("%d ConfigMaps have no recorded apply; at most the one in flight at the kill may lack one", missing)
	}
	if byLeader == 0 || byStandby == 0 {
		t.Errorf("the apply was not split between the two processes (%d by the leader, %d by the standby): the kill was not mid-apply", byLeader, byStandby)
	}
}
