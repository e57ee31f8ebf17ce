package cmd

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
)

// TestTreeShowsWavesAndHooks: tree prints what a Kustomization's ordered apply is waiting for
// in full, each object's wave, and the hooks of status.hooks with their last run.
func TestTreeShowsWavesAndHooks(t *testing.T) {
	ns := env.Namespace(t)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "settings", Annotations: map[string]string{"kustomize.weir.dev/wave": "1"}}}
	if err := env.Client.Create(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
	waiting := "wave 2 of 3: waiting for Deployment/" + ns + "/web-with-a-rather-long-name-so-that-the-message-is-longer-than-eighty"
	conds := append(ready(metav1.ConditionTrue, meta.SucceededReason, "applied"), metav1.Condition{
		Type: meta.ReconcilingCondition, Status: metav1.ConditionTrue, Reason: meta.ProgressingReason, Message: waiting,
		ObservedGeneration: 1, LastTransitionTime: metav1.NewTime(time.Now()),
	})
	ks := kustomization(ns, "app", "app", conds, "main@sha1:abc")
	ks.Status.Inventory = inventory(ns+"_settings__ConfigMap", "v1")
	ks.Status.Hooks = []kustomizev1.HookStatus{
		{ID: ns + "_migrate_batch_Job", Version: "v1", Point: "pre-apply", Revision: "main@sha1:abc", Phase: "Succeeded"},
		{ID: ns + "_smoke_batch_Job", Version: "v1", Point: "post-apply", Revision: "main@sha1:abc", Phase: "Failed", Message: "BackoffLimitExceeded: Job has reached the specified backoff limit"},
	}
	create(t, ks)

	code, out, errOut := weir(t, "tree", "ks", "app", "-n", ns)
	if code != 0 {
		t.Fatalf("code %d, %q", code, errOut)
	}
	for _, want := range []string{
		"\n  in progress: " + waiting + "\n",
		"└── ConfigMap/" + ns + "/settings Current (wave 1)\n",
		"hook pre-apply Job/" + ns + "/migrate Succeeded at main@sha1:abc\n",
		"hook post-apply Job/" + ns + "/smoke Failed at main@sha1:abc: BackoffLimitExceeded: Job has reached the specified backoff limit\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("tree output lacks %q:\n%s", want, out)
		}
	}
}
