package tenants

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/cli/test/examples/internal/harness"
	"weir.dev/pkg/testenv"
)

// intrusion is what team-a commits: team-b's ConfigMap, with team-a's message.
const intrusion = `apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: team-b
data:
  message: team-a was here
`

// TestPlatformOnboardsTwoTeams runs docs/examples/tenants under lockdown: the platform's entry
// point onboards team-a and team-b, whose Kustomizations apply their own repositories into
// their namespaces as their ServiceAccounts. team-a then commits an object into team-b's
// namespace: team-a's Kustomization is refused, naming the object and the ServiceAccount it
// acts as, and changes nothing; team-b stays Ready and its objects are untouched.
func TestPlatformOnboardsTwoTeams(t *testing.T) {
	ctx := context.Background()
	c := env.Client
	examples := filepath.Join(harness.ExamplesDir(t), "tenants")
	host := harness.StartGitHost(t, nil)
	platform := host.Publish(t, "platform", filepath.Join(examples, "platform"), nil)
	repos := map[string]*harness.Repo{}
	for _, team := range []string{"team-a", "team-b"} {
		repos[team] = host.Publish(t, team, filepath.Join(examples, team), nil)
	}

	// A cluster administrator: kubectl apply -k clusters/my-cluster.
	harness.Apply(t, c, filepath.Join(platform.Dir, "clusters", "my-cluster"))
	harness.WaitReady(t, c, &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: harness.WeirNamespace, Name: "tenants"}}, 2*time.Minute, nil)
	for team, repo := range repos {
		waitApplied(t, team, repo.Head(t))
		if got := configMessage(t, team); got != "Hello from "+team {
			t.Errorf("%s/web-config says %q", team, got)
		}
		if err := c.Get(ctx, client.ObjectKey{Namespace: team, Name: "web"}, &appsv1.Deployment{}); err != nil {
			t.Errorf("%s's Deployment: %v", team, err)
		}
	}
	before := teamBObjects(t)
	teamB := kustomization("team-b")
	if err := c.Get(ctx, client.ObjectKeyFromObject(teamB), teamB); err != nil {
		t.Fatal(err)
	}
	teamBApplied := teamB.Status.LastAppliedRevision

	// team-a commits team-b's ConfigMap and asks for its source at once.
	teamA := repos["team-a"]
	teamA.Write(t, "team-b-config.yaml", intrusion)
	teamA.Write(t, "kustomization.yaml", strings.Replace(teamA.Read(t, "kustomization.yaml"),
		"  - service.yaml\n", "  - service.yaml\n  - team-b-config.yaml\n", 1))
	intruded := "main@sha1:" + teamA.CommitAndPush(t, "Share our config with team-b")
	harness.RequestReconcile(t, c, &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "team-a"}})

	ks := kustomization("team-a")
	var refusal string
	testenv.Eventually(t, 2*time.Minute, func() error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(ks), ks); err != nil {
			return err
		}
		ready := apimeta.FindStatusCondition(ks.Status.Conditions, meta.ReadyCondition)
		if ready == nil || ready.Status != metav1.ConditionFalse || ks.Status.LastAttemptedRevision != intruded {
			return fmt.Errorf("team-a's Kustomization has not refused %s: attempted %s, Ready %+v", intruded, ks.Status.LastAttemptedRevision, ready)
		}
		for _, want := range []string{"ConfigMap", "team-b", "web-config", "system:serviceaccount:team-a:reconciler"} {
			if !strings.Contains(ready.Message, want) {
				return fmt.Errorf("team-a's Ready message does not name %q: %s: %s", want, ready.Reason, ready.Message)
			}
		}
		refusal = ready.Reason + ": " + ready.Message
		return nil
	})
	t.Logf("team-a: %s", refusal)

	// Nothing of the refused commit was applied, in either namespace.
	if got := configMessage(t, "team-a"); got != "Hello from team-a" {
		t.Errorf("team-a/web-config says %q", got)
	}
	if got := configMessage(t, "team-b"); got != "Hello from team-b" {
		t.Errorf("team-b/web-config says %q after team-a's refused commit", got)
	}

	// team-b reconciles as before, Ready at its own revision, its objects unchanged.
	harness.RequestReconcile(t, c, teamB)
	harness.WaitReady(t, c, teamB, 2*time.Minute, func() error {
		if teamB.Status.LastHandledReconcileAt == "" || teamB.Status.LastHandledReconcileAt != teamB.Annotations[meta.ReconcileRequestAnnotation] {
			return fmt.Errorf("team-b has not handled the reconcile request yet")
		}
		if teamB.Status.LastAppliedRevision != teamBApplied {
			return fmt.Errorf("team-b applied %s, was %s", teamB.Status.LastAppliedRevision, teamBApplied)
		}
		return nil
	})
	if after := teamBObjects(t); after != before {
		t.Errorf("team-b's objects changed:\nbefore %s\nafter  %s", before, after)
	}
}

func kustomization(team string) *kustomizev1.Kustomization {
	return &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: team, Name: team}}
}

// waitApplied waits until team's Kustomization is Ready having applied commit.
func waitApplied(t *testing.T, team, commit string) {
	t.Helper()
	ks := kustomization(team)
	harness.WaitReady(t, env.Client, ks, 2*time.Minute, func() error {
		if want := "main@sha1:" + commit; ks.Status.LastAppliedRevision != want {
			return fmt.Errorf("%s applied %q, not %q", team, ks.Status.LastAppliedRevision, want)
		}
		return nil
	})
}

// configMessage returns the message of team's ConfigMap web-config.
func configMessage(t *testing.T, team string) string {
	t.Helper()
	cm := &corev1.ConfigMap{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: team, Name: "web-config"}, cm); err != nil {
		t.Fatal(err)
	}
	return cm.Data["message"]
}

// teamBObjects returns the kind, name and resourceVersion of each object in team-b's
// inventory.
func teamBObjects(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	for _, o := range []client.Object{
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "web-config"}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web"}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"}},
	} {
		o.SetNamespace("team-b")
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(o), o); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%T %s@%s ", o, o.GetName(), o.GetResourceVersion())
	}
	return b.String()
}
