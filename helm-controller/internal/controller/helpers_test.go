package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

const timeout = 30 * time.Second

// createHelmRelease creates a HelmRelease of the HelmChart "chart" in ns, with a 10m interval
// and a 20s timeout, changed by mutate.
func createHelmRelease(t testing.TB, ns, name string, mutate func(*helmv1.HelmRelease)) *helmv1.HelmRelease {
	t.Helper()
	hr := &helmv1.HelmRelease{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: helmv1.HelmReleaseSpec{
			ChartRef: &helmv1.CrossNamespaceSourceReference{Kind: "HelmChart", Name: "chart"},
			Interval: metav1.Duration{Duration: 10 * time.Minute},
			Timeout:  &metav1.Duration{Duration: 20 * time.Second},
		},
	}
	if mutate != nil {
		mutate(hr)
	}
	if err := env.Client.Create(context.Background(), hr); err != nil {
		t.Fatal(err)
	}
	return hr
}

// jsonValues turns a YAML/JSON object into spec.values.
func jsonValues(s string) *apiextensionsv1.JSON { return &apiextensionsv1.JSON{Raw: []byte(s)} }

// updateHelmRelease gets hr afresh, applies mutate and updates it, retrying on conflicts.
func updateHelmRelease(t testing.TB, hr *helmv1.HelmRelease, mutate func(*helmv1.HelmRelease)) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(hr), hr); err != nil {
			return err
		}
		mutate(hr)
		return env.Client.Update(context.Background(), hr)
	})
}

// waitReleased waits until hr is Ready, reconciled at its generation, having attempted revision
// (any when empty) with Released's reason.
func waitReleased(t testing.TB, hr *helmv1.HelmRelease, reason, revision string) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		if err := env.ObjectIn(hr, meta.ReadyCondition, metav1.ConditionTrue, reason, "")(); err != nil {
			return err
		}
		if hr.Status.ObservedGeneration != hr.Generation {
			return fmt.Errorf("observedGeneration %d, generation %d", hr.Status.ObservedGeneration, hr.Generation)
		}
		if revision != "" && hr.Status.LastAttemptedRevision != revision {
			return fmt.Errorf("lastAttemptedRevision %q, want %q", hr.Status.LastAttemptedRevision, revision)
		}
		return testenv.CheckCondition(hr, helmv1.ReleasedCondition, metav1.ConditionTrue, reason, "")
	})
	if err := testenv.CheckKstatus(hr, helmReleaseNegative...); err != nil {
		t.Error(err)
	}
}

// waitNotReady waits until hr is Ready=False with reason and a message containing msg; stalled
// says whether Stalled must be True too.
func waitNotReady(t testing.TB, hr *helmv1.HelmRelease, reason, msg string, stalled bool) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		if err := env.ObjectIn(hr, meta.ReadyCondition, metav1.ConditionFalse, reason, msg)(); err != nil {
			return err
		}
		if stalled {
			return testenv.CheckCondition(hr, meta.StalledCondition, metav1.ConditionTrue, reason, msg)
		}
		return nil
	})
	if err := testenv.CheckKstatus(hr, helmReleaseNegative...); err != nil {
		t.Error(err)
	}
}

// renderedValues returns the values the default template rendered into ConfigMap
// ns/<release>-cm, or nil when it does not exist.
func renderedValues(t testing.TB, ns, release string) map[string]any {
	t.Helper()
	var cm corev1.ConfigMap
	err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: release + "-cm"}, &cm)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(cm.Data["values"]), &v); err != nil {
		t.Fatalf("ConfigMap %s/%s-cm values: %v", ns, release, err)
	}
	v["_chartVersion"] = cm.Data["chartVersion"]
	return v
}

// waitRendered waits until the rendered values of release in ns have key with value want
// (compared as JSON).
func waitRendered(t testing.TB, ns, release, key, want string) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		v := renderedValues(t, ns, release)
		if v == nil {
			return fmt.Errorf("ConfigMap %s/%s-cm does not exist", ns, release)
		}
		b, _ := json.Marshal(v[key])
		if string(b) != want {
			return fmt.Errorf("rendered %s = %s, want %s", key, b, want)
		}
		return nil
	})
}

// revisions returns "<version>:<status>" of every record of release in Helm's storage in ns,
// oldest first.
func revisions(t testing.TB, storageNS, release string) []string {
	t.Helper()
	var list corev1.SecretList
	if err := env.Client.List(context.Background(), &list, client.InNamespace(storageNS),
		client.MatchingLabels{"owner": "helm", "name": release}); err != nil {
		t.Fatal(err)
	}
	sort.Slice(list.Items, func(i, j int) bool {
		return versionOf(list.Items[i]) < versionOf(list.Items[j])
	})
	out := make([]string, 0, len(list.Items))
	for _, s := range list.Items {
		out = append(out, s.Labels["version"]+":"+s.Labels["status"])
	}
	return out
}

func versionOf(s corev1.Secret) int {
	var n int
	_, _ = fmt.Sscan(s.Labels["version"], &n)
	return n
}

// wantRevisions checks the records of release, oldest first.
func wantRevisions(t testing.TB, storageNS, release string, want ...string) {
	t.Helper()
	if got := revisions(t, storageNS, release); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("release %s/%s revisions %v, want %v", storageNS, release, got, want)
	}
}

// requestReconcile sets the reconcile-request annotation and waits until it is handled.
func requestReconcile(t testing.TB, hr *helmv1.HelmRelease) {
	t.Helper()
	token := time.Now().Format(time.RFC3339Nano)
	updateHelmRelease(t, hr, func(hr *helmv1.HelmRelease) {
		if hr.Annotations == nil {
			hr.Annotations = map[string]string{}
		}
		hr.Annotations[meta.ReconcileRequestAnnotation] = token
	})
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(hr), hr); err != nil {
			return err
		}
		if hr.Status.LastHandledReconcileAt != token {
			return fmt.Errorf("lastHandledReconcileAt %q, want %q", hr.Status.LastHandledReconcileAt, token)
		}
		return nil
	})
}

// waitEvent waits for an event about ns/name with reason and a message containing msg: events
// are recorded asynchronously.
func waitEvent(t testing.TB, ns, name, eventType, reason, msg string) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error { return hasEvent(t, ns, name, eventType, reason, msg) })
}

// hasEvent reports whether an event about ns/name has reason and a message containing msg.
func hasEvent(t testing.TB, ns, name, eventType, reason, msg string) error {
	t.Helper()
	var seen []string
	for _, e := range env.Events(t, ns, name) {
		if e.Type == eventType && e.Reason == reason && strings.Contains(e.Message, msg) {
			return nil
		}
		seen = append(seen, e.Type+"/"+e.Reason+": "+e.Message)
	}
	return fmt.Errorf("no %s event %s containing %q about %s/%s; events: %v", eventType, reason, msg, ns, name, seen)
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

func objectKey(o client.Object) client.ObjectKey { return client.ObjectKeyFromObject(o) }
