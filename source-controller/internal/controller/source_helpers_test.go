package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	"weir.dev/pkg/artifact"
	"weir.dev/pkg/testenv"
)

// Shared builders and matchers for the OCIRepository, HelmRepository and HelmChart tests.

// artifactSource is a source object as the tests see it.
type artifactSource interface {
	testenv.Conditioned
	GetArtifact() *meta.Artifact
}

// observedGeneration returns status.observedGeneration of any source kind.
func observedGeneration(obj client.Object) int64 {
	b, _ := json.Marshal(obj)
	var v struct {
		Status struct {
			ObservedGeneration int64 `json:"observedGeneration"`
		} `json:"status"`
	}
	_ = json.Unmarshal(b, &v)
	return v.Status.ObservedGeneration
}

// waitArtifact waits until obj is Ready, has observed its generation and has an artifact
// whose revision passes check; it returns that artifact.
func waitArtifact(t *testing.T, obj artifactSource, check func(rev string) error) *meta.Artifact {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		if err := env.ObjectIn(obj, meta.ReadyCondition, metav1.ConditionTrue, "", "")(); err != nil {
			return err
		}
		if g := observedGeneration(obj); g != obj.GetGeneration() {
			return fmt.Errorf("observedGeneration %d, generation %d", g, obj.GetGeneration())
		}
		a := obj.GetArtifact()
		if a == nil {
			return fmt.Errorf("%s has no artifact", obj.GetName())
		}
		return check(a.Revision)
	})
	if o, ok := obj.(testenv.Observed); ok {
		if err := testenv.CheckKstatus(o); err != nil {
			t.Error(err)
		}
	}
	return obj.GetArtifact().DeepCopy()
}

// revisionIs is a check for waitArtifact.
func revisionIs(want string) func(string) error {
	return func(rev string) error {
		if rev != want {
			return fmt.Errorf("revision %s, want %s", rev, want)
		}
		return nil
	}
}

// waitFailure waits until obj is Ready=False with reason and a message containing msg, checks
// Stalled (true only when stalled) and that a warning event with the reason was recorded.
func waitFailure(t *testing.T, obj artifactSource, reason, msg string, stalled bool) {
	t.Helper()
	testenv.Eventually(t, timeout, env.ObjectIn(obj, meta.ReadyCondition, metav1.ConditionFalse, reason, msg))
	if o, ok := obj.(testenv.Observed); ok {
		if err := testenv.CheckKstatus(o); err != nil {
			t.Error(err)
		}
	}
	if stalled {
		if err := testenv.CheckCondition(obj, meta.StalledCondition, metav1.ConditionTrue, reason, ""); err != nil {
			t.Error(err)
		}
	} else if err := testenv.CheckCondition(obj, meta.ReconcilingCondition, metav1.ConditionTrue, meta.ProgressingWithRetryReason, ""); err != nil {
		t.Error(err)
	}
	testenv.Eventually(t, timeout, func() error {
		for _, ev := range env.Events(t, obj.GetNamespace(), obj.GetName()) {
			if ev.Type == corev1.EventTypeWarning && ev.Reason == reason {
				return nil
			}
		}
		return fmt.Errorf("no warning event with reason %s", reason)
	})
}

// assertNoLeak fails the test when a secret shows in obj's status, its Kubernetes events, the
// events sent to notification-controller or the controller's log.
func assertNoLeak(t *testing.T, obj client.Object, secrets ...string) {
	t.Helper()
	var v struct {
		Status json.RawMessage `json:"status"`
	}
	b, _ := json.Marshal(obj)
	_ = json.Unmarshal(b, &v)
	for _, secret := range secrets {
		if strings.Contains(string(v.Status), secret) {
			t.Errorf("%s's status contains the secret: %s", obj.GetName(), v.Status)
		}
		for _, ev := range env.Events(t, obj.GetNamespace(), obj.GetName()) {
			if strings.Contains(ev.Message, secret) {
				t.Errorf("event %s contains the secret: %s", ev.Reason, ev.Message)
			}
		}
		if ev, ok := eventSink.mentioning(secret); ok {
			t.Errorf("an event sent to notification-controller contains the secret: %+v", ev)
		}
		if logSink.contains(secret) {
			t.Errorf("the controller's log contains the secret")
		}
	}
}

// fetchRaw downloads an artifact's file from the artifact server and checks its digest.
func fetchRaw(t *testing.T, a *meta.Artifact) []byte {
	t.Helper()
	resp, err := http.Get(a.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", a.URL, resp.Status)
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := artifact.Digest(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	if "sha256:"+strings.TrimPrefix(got, "sha256:") != a.Digest {
		t.Fatalf("artifact digest %s, status says %s", got, a.Digest)
	}
	return data
}

// requestReconcileOf sets a new reconcile-request token on obj and waits until the controller
// handled it.
func requestReconcileOf(t *testing.T, obj client.Object) {
	t.Helper()
	token := time.Now().Format(time.RFC3339Nano)
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	ann := obj.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[meta.ReconcileRequestAnnotation] = token
	obj.SetAnnotations(ann)
	if err := env.Client.Patch(context.Background(), obj, patch); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		b, _ := json.Marshal(obj)
		if !strings.Contains(string(b), `"lastHandledReconcileAt":"`+token+`"`) {
			return fmt.Errorf("reconcile request %s not handled yet", token)
		}
		return nil
	})
}

// assertNoFileNamed fails when a file called name exists anywhere in the storage, or directly
// in the temp dir, the test's working directory or any of their ancestors: where an archive
// entry with `..` or an absolute path would have landed.
func assertNoFileNamed(t *testing.T, name string) {
	t.Helper()
	_ = filepath.WalkDir(testStorage.Root(), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == name {
			t.Errorf("found %s in the storage", p)
		}
		return nil
	})
	wd, _ := os.Getwd()
	for _, dir := range []string{os.TempDir(), wd, testStorage.Root()} {
		for d := dir; ; d = filepath.Dir(d) {
			if _, err := os.Lstat(filepath.Join(d, name)); err == nil {
				t.Errorf("found %s: an archive entry was written outside its directory", filepath.Join(d, name))
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
}

// readFile returns the content of the file at p.
func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
