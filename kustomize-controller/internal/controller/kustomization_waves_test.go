package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

// There is no kube-controller-manager in these tests: the tests play the Deployment and Job
// controllers by writing the status subresource (see makeAvailable, finishJob).

// wavedConfigMap is a ConfigMap in wave (none when wave is "").
func wavedConfigMap(name, wave string) string {
	s := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n"
	if wave != "" {
		s += "  annotations:\n    kustomize.weir.dev/wave: \"" + wave + "\"\n"
	}
	return s + "data:\n  value: \"1\"\n"
}

// wavedDeployment is Deployment "web" in wave.
func wavedDeployment(wave string) string {
	return strings.Replace(deployment, "  name: web\n", "  name: web\n  annotations:\n    kustomize.weir.dev/wave: \""+wave+"\"\n", 1)
}

// hookJob is a Job hook at point, with the delete policy when not "".
func hookJob(name, point, policy string) string {
	s := "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: " + name + "\n  annotations:\n    kustomize.weir.dev/hook: " + point + "\n"
	if policy != "" {
		s += "    kustomize.weir.dev/hook-delete-policy: " + policy + "\n"
	}
	return s + "spec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: run, image: busybox:1.0}]\n"
}

// makeAvailable writes Deployment ns/name's status as its controller would once it is available.
func makeAvailable(t *testing.T, ns, name string) {
	t.Helper()
	var dep appsv1.Deployment
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &dep); err != nil {
		t.Fatal(err)
	}
	dep.Status = appsv1.DeploymentStatus{
		ObservedGeneration: dep.Generation, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 2, AvailableReplicas: 2,
		Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable"},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable"},
		},
	}
	if err := env.Client.Status().Update(context.Background(), &dep); err != nil {
		t.Fatal(err)
	}
}

// getJob returns Job ns/name, nil when there is none.
func getJob(t *testing.T, ns, name string) *batchv1.Job {
	t.Helper()
	var job batchv1.Job
	err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &job)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return &job
}

// waitJob waits until Job ns/name exists and returns it.
func waitJob(t *testing.T, ns, name string) *batchv1.Job {
	t.Helper()
	var job *batchv1.Job
	testenv.Eventually(t, timeout, func() error {
		if job = getJob(t, ns, name); job == nil {
			return fmt.Errorf("no Job %s/%s yet", ns, name)
		}
		return nil
	})
	return job
}

// finishJob writes Job ns/name's status as the Job controller does when it completes, or
// when it fails with reason and message.
func finishJob(t *testing.T, ns, name string, succeeded bool, reason, message string) {
	t.Helper()
	job := waitJob(t, ns, name)
	now := metav1.Now()
	job.Status.StartTime = &now
	if succeeded {
		job.Status.Succeeded = 1
		job.Status.CompletionTime = &now
		job.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, Reason: "CompletionsReached", Message: "Reached expected number of succeeded pods", LastTransitionTime: now, LastProbeTime: now},
			{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, Reason: "CompletionsReached", Message: "Reached expected number of succeeded pods", LastTransitionTime: now, LastProbeTime: now},
		}
	} else {
		job.Status.Failed = 1
		job.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: reason, Message: message, LastTransitionTime: now, LastProbeTime: now},
			{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: reason, Message: message, LastTransitionTime: now, LastProbeTime: now},
		}
	}
	if err := env.Client.Status().Update(context.Background(), job); err != nil {
		t.Fatal(err)
	}
}

// configMapEvents records, in the order the API server serialised them, the ConfigMaps of ns
// added and deleted, as "ADDED name" and "DELETED name".
type configMapEvents struct {
	mu     sync.Mutex
	events []string
}

func watchConfigMaps(t *testing.T, ns string) *configMapEvents {
	t.Helper()
	wc, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	w, err := wc.Watch(context.Background(), &corev1.ConfigMapList{}, client.InNamespace(ns))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	rec := &configMapEvents{}
	go func() {
		for e := range w.ResultChan() {
			cm, ok := e.Object.(*corev1.ConfigMap)
			if !ok || cm.Name == "kube-root-ca.crt" || (e.Type != watch.Added && e.Type != watch.Deleted) {
				continue
			}
			rec.mu.Lock()
			rec.events = append(rec.events, string(e.Type)+" "+cm.Name)
			rec.mu.Unlock()
		}
	}()
	return rec
}

// of returns the names of the recorded events of type typ, in order.
func (r *configMapEvents) of(typ watch.EventType) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		if name, ok := strings.CutPrefix(e, string(typ)+" "); ok {
			out = append(out, name)
		}
	}
	return out
}

// waitEvents waits until the events of typ are exactly want, in that order.
func (r *configMapEvents) waitEvents(t *testing.T, typ watch.EventType, want ...string) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		if got := r.of(typ); !slices.Equal(got, want) {
			return fmt.Errorf("%s ConfigMaps in order %v, want %v", typ, got, want)
		}
		return nil
	})
}

// TestWavesApplyInOrder: objects are created wave by wave in ascending order (not in the
// engine's usual name order), and a later wave is applied only once the earlier one is
// healthy, while Reconciling names what the run is waiting for.
func TestWavesApplyInOrder(t *testing.T) {
	ns := env.Namespace(t)
	events := watchConfigMaps(t, ns)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{
		"app/a.yaml": wavedConfigMap("a", "5"),
		"app/b.yaml": wavedConfigMap("b", "-1"),
		"app/c.yaml": wavedConfigMap("c", ""),
		"app/d.yaml": wavedConfigMap("d", " 2 "),
	})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns })
	waitApplied(t, ks, "main@sha1:1")
	events.waitEvents(t, watch.Added, "b", "c", "d", "a")

	// Wave 1 is a Deployment that is not available yet: wave 2 waits for it.
	publish(t, ns, "repo", "main@sha1:2", map[string]string{
		"app/web.yaml":   wavedDeployment("1"),
		"app/x.yaml":     wavedConfigMap("x", "1"), // healthy at once: not the one waited for
		"app/after.yaml": wavedConfigMap("after", "2"),
	})
	testenv.Eventually(t, timeout, env.ObjectIn(ks, meta.ReconcilingCondition, metav1.ConditionTrue, meta.ProgressingReason,
		"wave 1 of 2: waiting for Deployment/"+ns+"/web"))
	if got := configMapValue(t, ns, "after"); got != "<absent>" {
		t.Fatalf("wave 2 applied (value %q) while wave 1 is not healthy", got)
	}
	makeAvailable(t, ns, "web")
	waitApplied(t, ks, "main@sha1:2")
	if got := configMapValue(t, ns, "after"); got != "1" {
		t.Fatalf("wave 2 ConfigMap value %q after wave 1 became healthy", got)
	}
	if err := testenv.CheckCondition(ks, meta.ReconcilingCondition, "", "", ""); err == nil {
		t.Fatal("Reconciling still present after the run succeeded")
	}
}

// TestWaveFailureStopsLaterWaves: a wave that does not become healthy within spec.timeout
// fails the run (WaveFailed, naming the wave, the object and the waves not applied), and the
// later waves are not applied; the whole set's dry run happens before any wave, so an invalid
// object in the last wave keeps the first from being applied.
func TestWaveFailureStopsLaterWaves(t *testing.T) {
	ns := env.Namespace(t)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{
		"app/web.yaml":  wavedDeployment("0"),
		"app/late.yaml": wavedConfigMap("late", "3"),
	})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) {
		k.Spec.TargetNamespace = ns
		k.Spec.Timeout = &metav1.Duration{Duration: 3 * time.Second}
	})
	testenv.Eventually(t, timeout, env.ObjectIn(ks, meta.ReadyCondition, metav1.ConditionFalse, kustomizev1.WaveFailedReason,
		"wave 1 of 2 (kustomize.weir.dev/wave: 0): health check of Deployment/"+ns+"/web failed"))
	if err := testenv.CheckCondition(ks, meta.ReadyCondition, metav1.ConditionFalse, kustomizev1.WaveFailedReason, "the later waves (3) were not applied"); err != nil {
		t.Error(err)
	}
	if got := configMapValue(t, ns, "late"); got != "<absent>" {
		t.Fatalf("wave 3 applied after wave 0 failed: value %q", got)
	}

	// The dry run of the whole set refuses an invalid object of the last wave first.
	ns2 := env.Namespace(t)
	bad := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  annotations: {kustomize.weir.dev/wave: \"9\"}\ndata:\n  value: 1\n"
	publish(t, ns2, "repo", "main@sha1:1", map[string]string{"app/first.yaml": wavedConfigMap("first", "0"), "app/bad.yaml": bad})
	ks2 := createKustomization(t, ns2, "app", "./app", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns2 })
	testenv.Eventually(t, timeout, env.ObjectIn(ks2, meta.ReadyCondition, metav1.ConditionFalse, kustomizev1.ApplyFailedReason, "ConfigMap/"+ns2+"/bad"))
	if got := configMapValue(t, ns2, "first"); got != "<absent>" {
		t.Fatalf("wave 0 applied although the dry run of wave 9 failed: value %q", got)
	}
}

// TestInvalidWaveAnnotation: a wave or hook annotation with an unknown value stalls the
// Kustomization naming the object and the annotation, and nothing is applied.
func TestInvalidWaveAnnotation(t *testing.T) {
	ns := env.Namespace(t)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{
		"app/x.yaml": wavedConfigMap("x", "first"),
		"app/y.yaml": wavedConfigMap("y", ""),
	})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns })
	testenv.Eventually(t, timeout, env.ObjectIn(ks, meta.StalledCondition, metav1.ConditionTrue, kustomizev1.InvalidAnnotationReason,
		"ConfigMap "+ns+"/x: annotation kustomize.weir.dev/wave: \"first\" is not an integer"))
	if got := configMapValue(t, ns, "y"); got != "<absent>" {
		t.Fatalf("an object was applied although another's wave is invalid: value %q", got)
	}

	publish(t, ns, "repo", "main@sha1:2", map[string]string{"app/j.yaml": hookJob("j", "pre-sync", "")})
	testenv.Eventually(t, timeout, env.ObjectIn(ks, meta.ReadyCondition, metav1.ConditionFalse, kustomizev1.InvalidAnnotationReason,
		"Job "+ns+"/j: annotation kustomize.weir.dev/hook: \"pre-sync\" is not one of"))
}

// TestPreApplyHook: a pre-apply hook runs before the first wave (nothing else is applied
// while it runs, and Reconciling says so), is recorded in status.hooks, and is not run again
// for the same revision; a new revision runs it anew (before-next-run: the old Job is
// replaced).
func TestPreApplyHook(t *testing.T) {
	ns := env.Namespace(t)
	files := map[string]string{"app/migrate.yaml": hookJob("migrate", "pre-apply", ""), "app/cm.yaml": wavedConfigMap("cm", "")}
	publish(t, ns, "repo", "main@sha1:1", files)
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) {
		k.Spec.TargetNamespace = ns
		k.Spec.Timeout = &metav1.Duration{Duration: time.Minute}
	})
	testenv.Eventually(t, timeout, env.ObjectIn(ks, meta.ReconcilingCondition, metav1.ConditionTrue, meta.ProgressingReason,
		"hook pre-apply Job/"+ns+"/migrate: running"))
	if got := configMapValue(t, ns, "cm"); got != "<absent>" {
		t.Fatalf("the ConfigMap was applied before the pre-apply hook completed: value %q", got)
	}
	first := waitJob(t, ns, "migrate")
	if first.Labels["kustomize.weir.dev/name"] != "app" || first.Annotations[HookRunAnnotation] == "" {
		t.Errorf("hook Job labels %v annotations %v: want the ownership label and the run annotation", first.Labels, first.Annotations)
	}
	finishJob(t, ns, "migrate", true, "", "")
	waitApplied(t, ks, "main@sha1:1")
	if got := configMapValue(t, ns, "cm"); got != "1" {
		t.Fatalf("ConfigMap value %q after the hook completed", got)
	}
	if len(ks.Status.Hooks) != 1 || ks.Status.Hooks[0].Phase != kustomizev1.HookSucceeded || ks.Status.Hooks[0].Revision != "main@sha1:1" {
		t.Fatalf("status.hooks %+v, want the pre-apply hook Succeeded at main@sha1:1", ks.Status.Hooks)
	}
	for _, e := range ks.Status.Inventory.Entries {
		if strings.Contains(e.ID, "_Job") {
			t.Errorf("the hook Job is in the inventory: %v", e.ID)
		}
	}

	// A full run of the same revision does not run it again.
	requestReconcile(t, ks)
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(ks), ks); err != nil {
			return err
		}
		if ks.Status.LastHandledReconcileAt != ks.Annotations[meta.ReconcileRequestAnnotation] {
			return fmt.Errorf("reconcile request not handled yet")
		}
		return testenv.CheckCondition(ks, meta.ReadyCondition, metav1.ConditionTrue, "", "")
	})
	if j := getJob(t, ns, "migrate"); j == nil || j.UID != first.UID {
		t.Fatalf("the completed hook Job was run again for the same revision")
	}

	// A new revision runs it anew.
	files["app/cm.yaml"] = strings.Replace(files["app/cm.yaml"], `"1"`, `"2"`, 1)
	publish(t, ns, "repo", "main@sha1:2", files)
	testenv.Eventually(t, timeout, func() error {
		if j := getJob(t, ns, "migrate"); j == nil || j.UID == first.UID {
			return fmt.Errorf("hook Job not replaced for the new revision yet")
		}
		return nil
	})
	if got := configMapValue(t, ns, "cm"); got != "1" {
		t.Fatalf("the new revision's ConfigMap (value %q) was applied before its pre-apply hook completed", got)
	}
	finishJob(t, ns, "migrate", true, "", "")
	waitApplied(t, ks, "main@sha1:2")
	waitConfigMap(t, ns, "cm", "2")

	// A hook no longer built is pruned (it is in no inventory).
	delete(files, "app/migrate.yaml")
	publish(t, ns, "repo", "main@sha1:3", files)
	waitApplied(t, ks, "main@sha1:3")
	testenv.Eventually(t, timeout, func() error {
		if getJob(t, ns, "migrate") != nil {
			return fmt.Errorf("the hook Job no longer built is still there")
		}
		return nil
	})
	if len(ks.Status.Hooks) != 0 {
		t.Errorf("status.hooks %+v after the hook left the build", ks.Status.Hooks)
	}
}

// TestFailingPreApplyHook: a failing pre-apply hook stops the apply (HookFailed with the
// Job's reason and message; no wave applied, the Job not re-run), and the on-failure hook
// runs.
func TestFailingPreApplyHook(t *testing.T) {
	ns := env.Namespace(t)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{
		"app/migrate.yaml": hookJob("migrate", "pre-apply", ""),
		"app/notify.yaml":  hookJob("notify", "on-failure", "on-success"),
		"app/cm.yaml":      wavedConfigMap("cm", ""),
	})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) {
		k.Spec.TargetNamespace = ns
		k.Spec.Timeout = &metav1.Duration{Duration: time.Minute}
	})
	first := waitJob(t, ns, "migrate")
	if getJob(t, ns, "notify") != nil {
		t.Fatal("the on-failure hook ran before anything failed")
	}
	finishJob(t, ns, "migrate", false, "BackoffLimitExceeded", "Job has reached the specified backoff limit")

	// The on-failure hook runs; with on-success it is deleted once it completed.
	testenv.Eventually(t, timeout, env.ObjectIn(ks, meta.ReconcilingCondition, metav1.ConditionTrue, meta.ProgressingReason,
		"hook on-failure Job/"+ns+"/notify: running"))
	finishJob(t, ns, "notify", true, "", "")
	testenv.Eventually(t, timeout, func() error {
		if getJob(t, ns, "notify") != nil {
			return fmt.Errorf("on-failure hook with policy on-success not deleted yet")
		}
		return nil
	})
	testenv.Eventually(t, timeout, env.ObjectIn(ks, meta.ReadyCondition, metav1.ConditionFalse, kustomizev1.HookFailedReason,
		"hook pre-apply Job/"+ns+"/migrate failed: BackoffLimitExceeded: Job has reached the specified backoff limit; no wave was applied"))
	if err := testenv.CheckCondition(ks, kustomizev1.HookFailedCondition, metav1.ConditionTrue, kustomizev1.HookFailedReason, "BackoffLimitExceeded"); err != nil {
		t.Error(err)
	}
	if got := configMapValue(t, ns, "cm"); got != "<absent>" {
		t.Fatalf("a wave was applied after the pre-apply hook failed: value %q", got)
	}

	if getJob(t, ns, "notify") != nil {
		t.Fatal("the on-failure hook ran again for the same revision")
	}
	if j := getJob(t, ns, "migrate"); j == nil || j.UID != first.UID {
		t.Fatal("the failed pre-apply hook was re-run for the same revision")
	}
}

// TestPostApplyHookAndCleanup: a post-apply hook runs only once the last wave is healthy; with
// hook-delete-policy on-success its Job is deleted when it completed, and it is not run again
// for the same revision.
func TestPostApplyHookAndCleanup(t *testing.T) {
	ns := env.Namespace(t)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{
		"app/smoke.yaml": hookJob("smoke", "post-apply", "on-success"),
		"app/web.yaml":   wavedDeployment("1"),
		"app/cm.yaml":    wavedConfigMap("cm", "0"),
	})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) {
		k.Spec.TargetNamespace = ns
		k.Spec.Timeout = &metav1.Duration{Duration: time.Minute}
	})
	testenv.Eventually(t, timeout, env.ObjectIn(ks, meta.ReconcilingCondition, metav1.ConditionTrue, meta.ProgressingReason,
		"wave 2 of 2: waiting for Deployment/"+ns+"/web"))
	if getJob(t, ns, "smoke") != nil {
		t.Fatal("the post-apply hook ran before the last wave was healthy")
	}
	makeAvailable(t, ns, "web")
	waitJob(t, ns, "smoke")
	testenv.Eventually(t, timeout, env.ObjectIn(ks, meta.ReconcilingCondition, metav1.ConditionTrue, meta.ProgressingReason,
		"hook post-apply Job/"+ns+"/smoke: running"))
	finishJob(t, ns, "smoke", true, "", "")
	waitApplied(t, ks, "main@sha1:1")
	if getJob(t, ns, "smoke") != nil {
		t.Fatal("post-apply hook with policy on-success not deleted after it completed")
	}
	requestReconcile(t, ks)
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(ks), ks); err != nil {
			return err
		}
		if ks.Status.LastHandledReconcileAt != ks.Annotations[meta.ReconcileRequestAnnotation] {
			return fmt.Errorf("reconcile request not handled yet")
		}
		return testenv.CheckCondition(ks, meta.ReadyCondition, metav1.ConditionTrue, "", "")
	})
	if getJob(t, ns, "smoke") != nil {
		t.Fatal("the post-apply hook ran again for the same revision")
	}
}

// TestPruneInReverseWaveOrder: objects no longer built are deleted in reverse wave order.
func TestPruneInReverseWaveOrder(t *testing.T) {
	ns := env.Namespace(t)
	events := watchConfigMaps(t, ns)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{
		"app/a.yaml":     wavedConfigMap("a", "2"),
		"app/b.yaml":     wavedConfigMap("b", "0"),
		"app/c.yaml":     wavedConfigMap("c", "1"),
		"app/keep1.yaml": wavedConfigMap("keep1", "0"),
		"app/keep2.yaml": wavedConfigMap("keep2", "1"),
	})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns })
	waitApplied(t, ks, "main@sha1:1")
	publish(t, ns, "repo", "main@sha1:2", map[string]string{
		"app/keep1.yaml": wavedConfigMap("keep1", "0"),
		"app/keep2.yaml": wavedConfigMap("keep2", "1"),
	})
	waitApplied(t, ks, "main@sha1:2")
	events.waitEvents(t, watch.Deleted, "a", "c", "b")
}

// TestDeleteInReverseWaveOrder: deleting a Kustomization with prune deletes its objects in
// reverse wave order too.
func TestDeleteInReverseWaveOrder(t *testing.T) {
	ns := env.Namespace(t)
	events := watchConfigMaps(t, ns)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{
		"app/a.yaml": wavedConfigMap("a", "2"),
		"app/b.yaml": wavedConfigMap("b", "0"),
		"app/c.yaml": wavedConfigMap("c", "1"),
	})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns })
	waitApplied(t, ks, "main@sha1:1")
	if err := env.Client.Delete(context.Background(), ks); err != nil {
		t.Fatal(err)
	}
	events.waitEvents(t, watch.Deleted, "a", "c", "b")
}

// TestPreDeleteHook: a pre-delete hook is created suspended with the apply; deleting the
// Kustomization resumes it and deletes the objects only once it completed, then the hook too.
func TestPreDeleteHook(t *testing.T) {
	ns := env.Namespace(t)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{
		"app/backup.yaml": hookJob("backup", "pre-delete", ""),
		"app/cm.yaml":     wavedConfigMap("cm", ""),
	})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) {
		k.Spec.TargetNamespace = ns
		k.Spec.Timeout = &metav1.Duration{Duration: time.Minute}
	})
	waitApplied(t, ks, "main@sha1:1")
	job := getJob(t, ns, "backup")
	if job == nil || job.Spec.Suspend == nil || !*job.Spec.Suspend {
		t.Fatalf("pre-delete hook Job %v: want it created suspended", job)
	}
	if len(ks.Status.Hooks) != 1 || ks.Status.Hooks[0].Phase != kustomizev1.HookPending {
		t.Fatalf("status.hooks %+v, want the pre-delete hook Pending", ks.Status.Hooks)
	}

	if err := env.Client.Delete(context.Background(), ks); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, timeout, func() error {
		if j := getJob(t, ns, "backup"); j == nil || j.Spec.Suspend == nil || *j.Spec.Suspend {
			return fmt.Errorf("pre-delete hook not resumed yet")
		}
		return nil
	})
	if got := configMapValue(t, ns, "cm"); got != "1" {
		t.Fatalf("the objects were deleted before the pre-delete hook completed: value %q", got)
	}
	finishJob(t, ns, "backup", true, "", "")
	waitConfigMap(t, ns, "cm", "<absent>")
	testenv.Eventually(t, timeout, func() error {
		if getJob(t, ns, "backup") != nil {
			return fmt.Errorf("pre-delete hook Job still there")
		}
		err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(ks), ks)
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("Kustomization still there (%v)", err)
		}
		return nil
	})
}

// TestPlanWaves: a build without waves or hooks, or with every object in one wave, is not
// ordered (it takes ApplyAllStaged as before); hooks leave the applied set; cluster definitions
// belong to no wave.
func TestPlanWaves(t *testing.T) {
	parse := func(docs ...string) []*unstructured.Unstructured {
		var out []*unstructured.Unstructured
		for _, d := range docs {
			u := &unstructured.Unstructured{}
			if err := yaml.Unmarshal([]byte(d), &u.Object); err != nil {
				t.Fatal(err)
			}
			out = append(out, u)
		}
		return out
	}
	ns := "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: app\n  annotations: {kustomize.weir.dev/wave: \"7\"}\n"
	for _, tc := range []struct {
		name           string
		docs           []string
		ordered, waved bool
		waves, hooks   int
		rest           int
	}{
		{name: "no annotations", docs: []string{wavedConfigMap("a", ""), wavedConfigMap("b", "")}, waves: 1, rest: 2},
		{name: "one wave", docs: []string{wavedConfigMap("a", "3"), wavedConfigMap("b", "3")}, waves: 1, rest: 2},
		{name: "a namespace's wave does not count", docs: []string{ns, wavedConfigMap("a", "")}, waves: 1, rest: 2},
		{name: "two waves", docs: []string{wavedConfigMap("a", "0"), wavedConfigMap("b", "1")}, ordered: true, waved: true, waves: 2, rest: 2},
		{name: "a hook", docs: []string{wavedConfigMap("a", ""), hookJob("j", "post-apply", "")}, ordered: true, waves: 1, hooks: 1, rest: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rest, plan, err := planWaves(parse(tc.docs...))
			if err != nil {
				t.Fatal(err)
			}
			if plan.ordered() != tc.ordered || plan.waved() != tc.waved || len(plan.waves) != tc.waves || len(plan.hooks) != tc.hooks || len(rest) != tc.rest {
				t.Errorf("ordered %v waved %v, %d waves, %d hooks, %d applied; want %v %v %d %d %d",
					plan.ordered(), plan.waved(), len(plan.waves), len(plan.hooks), len(rest), tc.ordered, tc.waved, tc.waves, tc.hooks, tc.rest)
			}
		})
	}
	if _, _, err := planWaves(parse(hookJob("j", "pre-apply", "always"))); err == nil || !strings.Contains(err.Error(), "kustomize.weir.dev/hook-delete-policy: \"always\" is not one of before-next-run, on-success") {
		t.Errorf("unknown delete policy: %v", err)
	}
	if _, _, err := planWaves(parse(strings.Replace(wavedConfigMap("c", ""), "  name: c\n", "  name: c\n  annotations: {kustomize.weir.dev/hook: pre-delete}\n", 1))); err == nil || !strings.Contains(err.Error(), "pre-delete hooks must be Jobs") {
		t.Errorf("a pre-delete hook that is not a Job: %v", err)
	}
}
