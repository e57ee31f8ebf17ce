package ui

import (
	"context"
	"html"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
)

// TestDetailShowsWavesAndHooks: a Kustomization's page says which wave or hook its apply waits
// for, lists its hooks with their last run, and marks each inventory object's wave.
func TestDetailShowsWavesAndHooks(t *testing.T) {
	ns := env.Namespace(t)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "settings", Annotations: map[string]string{waveAnnotation: "1"}}}
	if err := env.Client.Create(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
	waiting := "wave 2 of 3: waiting for Deployment/" + ns + "/web"
	k := kustomization(ns, "app", append(readyTrue("applied revision main@sha1:1"),
		cond(meta.ReconcilingCondition, metav1.ConditionTrue, meta.ProgressingReason, waiting)), ns+"_settings__ConfigMap")
	k.Status.Hooks = []kustomizev1.HookStatus{{ID: ns + "_migrate_batch_Job", Version: "v1", Point: "pre-apply",
		Revision: "main@sha1:1", Phase: "Failed", Message: "BackoffLimitExceeded: Job has reached the specified backoff limit"}}
	create(t, k)
	_, base := serve(t, env.Config)
	code, body := fetch(t, base+"/objects/kustomization/"+ns+"/app")
	if code != 200 {
		t.Fatalf("detail page: %d", code)
	}
	body = html.UnescapeString(body)
	for _, want := range []string{
		`id="progress"><b>In progress</b>: ` + waiting + "</p>",
		`<section id="hooks">`,
		"<td>pre-apply</td><td>Job/" + ns + "/migrate</td><td>Failed</td><td>main@sha1:1</td><td>BackoffLimitExceeded: Job has reached the specified backoff limit</td>",
		`<span class="note">(wave 1)</span>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}
