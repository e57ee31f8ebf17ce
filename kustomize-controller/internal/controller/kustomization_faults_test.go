package controller

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/artifact"
	"weir.dev/pkg/testenv"
)

// TestArtifactFaultsRetriedWithBackoff: an artifact server that is slow (answers after the
// fetch timeout), drops connections, or serves a wrong body (digest mismatch) fails a few
// downloads of a new revision; the Kustomization, whose interval is an hour, is retried with
// backoff and converges at the new revision. The wrong body is never applied, the objects of
// the previous revision are neither pruned nor re-applied, each failure is logged naming the
// object, the artifact host and the attempt, and shows in status.history and as a warning
// event.
func TestArtifactFaultsRetriedWithBackoff(t *testing.T) {
	wrong, _, _ := tarball(t, map[string]string{
		"app/a.yaml":    configMap("a", "wrong"),
		"app/evil.yaml": configMap("evil", "wrong"),
	})
	cases := []struct {
		name    string
		fault   fault
		timeout time.Duration // spec.timeout, which bounds each download
		message string        // in the failure's message
	}{
		{name: "slow", fault: fault{count: 2, delay: time.Minute}, timeout: 3 * time.Second, message: "within spec.timeout (3s)"},
		// The fetcher retries once within a run (Retries: 1), so 4 drops fail 2 runs.
		{name: "drops", fault: fault{count: 4, drop: true}, timeout: 20 * time.Second, message: "EOF"},
		{name: "wrong body", fault: fault{count: 2, body: wrong}, timeout: 20 * time.Second, message: "digest mismatch"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := env.Namespace(t)
			v1 := map[string]string{"app/a.yaml": configMap("a", "1"), "app/b.yaml": configMap("b", "1")}
			publish(t, ns, "repo", "main@sha1:1", v1)
			ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) {
				k.Spec.TargetNamespace = ns
				k.Spec.Interval = metav1.Duration{Duration: time.Hour}
				k.Spec.RetryInterval = nil // retries are bounded by the hour-long interval only
				k.Spec.Timeout = &metav1.Duration{Duration: tc.timeout}
			})
			waitApplied(t, ks, "main@sha1:1")
			before := map[string]corev1.ConfigMap{}
			for _, name := range []string{"a", "b"} {
				before[name] = *getConfigMap(t, ns, name)
			}

			// The namespace in c makes the artifact's digest unique: the controller shares
			// extractions by digest, across namespaces.
			v2 := map[string]string{"app/a.yaml": configMap("a", "1"), "app/b.yaml": configMap("b", "1"), "app/c.yaml": configMap("c", ns)}
			var path string
			publishWith(t, ns, "repo", "main@sha1:2", v2, func(p string) {
				path = p
				artifacts.spoil(p, tc.fault)
			})
			// With an hour-long interval, only the backoff can bring the new revision in time.
			waitApplied(t, ks, "main@sha1:2")

			if left := artifacts.faultsLeft(path); left != 0 {
				t.Fatalf("%d spoiled requests were never made: the faults did not happen", left)
			}
			if n := artifacts.requestsOf(path); n <= tc.fault.count {
				t.Fatalf("%d requests of the artifact, want more than the %d spoiled ones", n, tc.fault.count)
			}
			failed := historyEntry(ks, "main@sha1:2", meta.ArtifactFailedReason)
			if failed == nil || failed.TotalReconciliations < 1 {
				t.Fatalf("status.history has no ArtifactFailed attempt of main@sha1:2: %+v", ks.Status.History)
			}
			if !hasEvent(t, ns, "app", corev1.EventTypeWarning, meta.ArtifactFailedReason) {
				t.Errorf("no warning event %s", meta.ArtifactFailedReason)
			}
			host := artifact.Host(artifacts.base)
			lines := retryLogs(t, ns, "app", meta.ArtifactFailedReason)
			if int64(len(lines)) < failed.TotalReconciliations {
				t.Fatalf("%d retry log lines for %d failed attempts", len(lines), failed.TotalReconciliations)
			}
			if msg := fmt.Sprint(lines[0]["error"]); !strings.Contains(msg, tc.message) || !strings.Contains(msg, "main@sha1:2") {
				t.Errorf("the first failure's message %q lacks %q or the revision", msg, tc.message)
			}
			for i, l := range lines {
				if l["host"] != host || l["revision"] != "main@sha1:2" || l["attempt"] != float64(i+1) || l["retryIn"] == "" {
					t.Errorf("retry log line %d: %v; want host %s, revision main@sha1:2, attempt %d and retryIn", i+1, l, host, i+1)
				}
			}

			// Nothing of the wrong body was applied, nothing good was pruned or re-applied.
			if got := configMapValue(t, ns, "evil"); got != "<absent>" {
				t.Errorf("ConfigMap evil from the wrong body exists (value %q)", got)
			}
			if got := configMapValue(t, ns, "c"); got != ns {
				t.Errorf("ConfigMap c value %q, want %s", got, ns)
			}
			for name, old := range before {
				now := *getConfigMap(t, ns, name)
				if now.UID != old.UID || now.ResourceVersion != old.ResourceVersion || now.Data["value"] != "1" {
					t.Errorf("ConfigMap %s changed during the faults: uid %s→%s, resourceVersion %s→%s, value %q",
						name, old.UID, now.UID, old.ResourceVersion, now.ResourceVersion, now.Data["value"])
				}
			}
			c := getConfigMap(t, ns, "c")
			if n := len(c.ManagedFields); n != 1 || c.ManagedFields[0].Manager != "kustomize-controller" || c.ManagedFields[0].Operation != metav1.ManagedFieldsOperationApply {
				t.Errorf("ConfigMap c managed fields %+v, want one apply by kustomize-controller", c.ManagedFields)
			}
		})
	}
}

// TestHealthCheckTimeoutRetried: a health check that timed out is retried with backoff, not
// at the next interval (an hour away): once the Deployment is available the Kustomization
// becomes Ready; each timed-out check is logged naming the object.
func TestHealthCheckTimeoutRetried(t *testing.T) {
	ns := env.Namespace(t)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{"app/deploy.yaml": deployment})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) {
		k.Spec.TargetNamespace = ns
		k.Spec.Wait = true
		k.Spec.Interval = metav1.Duration{Duration: time.Hour}
		k.Spec.RetryInterval = nil
		k.Spec.Timeout = &metav1.Duration{Duration: 2 * time.Second}
	})
	testenv.Eventually(t, timeout, env.ObjectIn(ks, meta.ReadyCondition, metav1.ConditionFalse, meta.HealthCheckFailedReason, "web"))

	var dep appsv1.Deployment
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "web"}, &dep); err != nil {
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
	// With an hour-long interval, only the backoff can bring the retry in time.
	waitApplied(t, ks, "main@sha1:1")
	if err := testenv.CheckCondition(ks, kustomizev1.HealthyCondition, metav1.ConditionTrue, "", ""); err != nil {
		t.Error(err)
	}
	lines := retryLogs(t, ns, "app", meta.HealthCheckFailedReason)
	if len(lines) == 0 {
		t.Fatal("no retry log line for the failed health check")
	}
	if msg := fmt.Sprint(lines[0]["error"]); !strings.Contains(msg, "Deployment/"+ns+"/web") {
		t.Errorf("the retry log line's error %q does not name the Deployment", msg)
	}
}

// historyEntry is ks's status.history entry of revision with status, nil when none.
func historyEntry(ks *kustomizev1.Kustomization, revision, status string) *kustomizev1.ReconcileSnapshot {
	for i, h := range ks.Status.History {
		if h.Metadata["revision"] == revision && h.LastReconciledStatus == status {
			return &ks.Status.History[i]
		}
	}
	return nil
}

func hasEvent(t *testing.T, ns, name, typ, reason string) bool {
	t.Helper()
	for _, e := range env.Events(t, ns, name) {
		if e.Type == typ && e.Reason == reason {
			return true
		}
	}
	return false
}

// retryLogs are the controller's "retrying with backoff" log lines of Kustomization ns/name
// with reason, oldest first.
func retryLogs(t *testing.T, ns, name, reason string) []map[string]any {
	t.Helper()
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

// TestHealthCheckRetriedAfterAPIStall is the case: the API server stalls (SIGSTOP)
// longer than spec.timeout while a Kustomization waits for its Deployment, so the health
// check times out. After the stall the Kustomization is retried with backoff and becomes Ready
// once the Deployment is available, long before its hour-long interval.
func TestHealthCheckRetriedAfterAPIStall(t *testing.T) {
	ns := env.Namespace(t)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{"app/deploy.yaml": deployment})
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) {
		k.Spec.TargetNamespace = ns
		k.Spec.Wait = true
		k.Spec.Interval = metav1.Duration{Duration: time.Hour}
		k.Spec.RetryInterval = nil
		k.Spec.Timeout = &metav1.Duration{Duration: 2 * time.Second}
	})
	// The Deployment exists: the controller is in its health check loop.
	testenv.Eventually(t, timeout, env.ObjectIn(ks, meta.ReadyCondition, metav1.ConditionFalse, meta.HealthCheckFailedReason, "web"))
	failures := func() int64 {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(ks), ks); err != nil {
			t.Fatal(err)
		}
		if h := historyEntry(ks, "main@sha1:1", meta.HealthCheckFailedReason); h != nil {
			return h.TotalReconciliations
		}
		return 0
	}
	before, logged := failures(), len(retryLogs(t, ns, "app", meta.HealthCheckFailedReason))

	thaw, err := env.FreezeAPIServer()
	if err != nil {
		t.Fatal(err)
	}
	// The stall's length is the fault itself, not a wait for a result: longer than spec.timeout.
	time.Sleep(5 * time.Second)
	if err := thaw(); err != nil {
		t.Fatal(err)
	}

	// The check that spanned the stall fails before the Deployment is fixed.
	testenv.Eventually(t, timeout, func() error {
		if n := failures(); n <= before {
			return fmt.Errorf("status.history: %d failed health checks, as many as before the stall", n)
		}
		return nil
	})

	var dep appsv1.Deployment
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "web"}, &dep); err != nil {
			return err
		}
		dep.Status = appsv1.DeploymentStatus{
			ObservedGeneration: dep.Generation, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 2, AvailableReplicas: 2,
			Conditions: []appsv1.DeploymentCondition{
				{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable"},
				{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable"},
			},
		}
		return env.Client.Status().Update(context.Background(), &dep)
	})
	// With an hour-long interval, only the backoff can bring the retry in time.
	waitApplied(t, ks, "main@sha1:1")
	if n := len(retryLogs(t, ns, "app", meta.HealthCheckFailedReason)); n <= logged {
		t.Errorf("no retry logged for the health check that spanned the stall (%d lines before, %d after)", logged, n)
	}
}
