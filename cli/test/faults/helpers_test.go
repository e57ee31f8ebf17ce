package faults

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/fluxcd/cli-utils/pkg/object"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/cli/internal/local"
	"weir.dev/cli/internal/local/localtest"
)

// eventually polls check until it returns nil, and fails t after timeout naming what.
var eventually = localtest.Eventually

func demoKey(name string) client.ObjectKey {
	return client.ObjectKey{Namespace: local.DemoNamespace, Name: name}
}

// conditioned is a Weir object with status conditions.
type conditioned interface {
	client.Object
	GetConditions() []metav1.Condition
}

// readyErr gets the demo object name into o and returns nil when it is Ready for its
// generation, or why not.
func readyErr(ctx context.Context, o conditioned, name string) error {
	if err := env.Client.Get(ctx, demoKey(name), o); err != nil {
		return err
	}
	ready := apimeta.FindStatusCondition(o.GetConditions(), meta.ReadyCondition)
	switch {
	case ready == nil:
		return fmt.Errorf("%s: no Ready condition", name)
	case ready.ObservedGeneration != o.GetGeneration():
		return fmt.Errorf("%s: Ready is for generation %d, not %d", name, ready.ObservedGeneration, o.GetGeneration())
	case ready.Status != metav1.ConditionTrue:
		return fmt.Errorf("%s: not Ready: %s: %s", name, ready.Reason, ready.Message)
	}
	return nil
}

// appliedErr returns nil when the Kustomization name is Ready having applied revision.
func appliedErr(ctx context.Context, name, revision string) error {
	ks := &kustomizev1.Kustomization{}
	if err := readyErr(ctx, ks, name); err != nil {
		return err
	}
	if ks.Status.LastAppliedRevision != revision {
		return fmt.Errorf("Kustomization %s applied %q, not %q", name, ks.Status.LastAppliedRevision, revision)
	}
	return nil
}

// pushAndReconcile commits and pushes the working copy and asks source-controller, through the
// direct client, to fetch it at once (as the demo's Receiver would); it returns the revision.
func pushAndReconcile(t *testing.T, message string) string {
	t.Helper()
	revision, err := commitAndPushErr(message)
	if err != nil {
		t.Fatal(err)
	}
	if err := requestReconcileErr(context.Background(), &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: local.DemoNamespace, Name: "demo"}}); err != nil {
		t.Fatal(err)
	}
	return revision
}

// writeFile writes path in the working copy, failing t on error.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := writeRepoFile(path, content); err != nil {
		t.Fatal(err)
	}
}

// removeFile removes path from the working copy.
func removeFile(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(filepath.Join(env.Demo.WorkDir, filepath.FromSlash(path))); err != nil {
		t.Fatal(err)
	}
}

// writeFaultsKustomization lists every YAML file of faults/ in its kustomization.yaml.
func writeFaultsKustomization(t *testing.T) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(env.Demo.WorkDir, "faults"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n")
	n := 0
	for _, e := range entries {
		if e.Name() != "kustomization.yaml" && strings.HasSuffix(e.Name(), ".yaml") {
			fmt.Fprintf(&b, "  - %s\n", e.Name())
			n++
		}
	}
	if n == 0 {
		b.WriteString("  []\n")
	}
	writeFile(t, "faults/kustomization.yaml", b.String())
}

// configMapYAML is a ConfigMap named name with labels and data.message.
func configMapYAML(name, message string, labels map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n", name)
	if len(labels) > 0 {
		b.WriteString("  labels:\n")
		keys := make([]string, 0, len(labels))
		for k := range labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "    %s: %q\n", k, labels[k])
		}
	}
	fmt.Fprintf(&b, "data:\n  message: %q\n", message)
	return b.String()
}

// configMapMessage returns data.message of the demo's ConfigMap name, or an error when it does
// not exist.
func configMapMessage(ctx context.Context, name string) (string, error) {
	cm := &corev1.ConfigMap{}
	if err := env.Client.Get(ctx, demoKey(name), cm); err != nil {
		return "", err
	}
	return cm.Data["message"], nil
}

// inventoryIDs returns the IDs in the Kustomization name's inventory.
func inventoryIDs(t *testing.T, name string) []string {
	t.Helper()
	ks := &kustomizev1.Kustomization{}
	if err := env.Client.Get(context.Background(), demoKey(name), ks); err != nil {
		t.Fatal(err)
	}
	if ks.Status.Inventory == nil {
		t.Fatalf("Kustomization %s has no inventory", name)
	}
	var ids []string
	for _, e := range ks.Status.Inventory.Entries {
		ids = append(ids, e.ID)
	}
	return ids
}

// checkInventory fails t unless every entry of the Kustomization name's inventory is listed
// once and exists in the cluster: nothing it still owns was pruned or lost.
func checkInventory(t *testing.T, name string) []string {
	t.Helper()
	ids := inventoryIDs(t, name)
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("Kustomization %s: inventory lists %s twice", name, id)
		}
		seen[id] = true
		m, err := object.ParseObjMetadata(id)
		if err != nil {
			t.Errorf("Kustomization %s: inventory entry %q: %v", name, id, err)
			continue
		}
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(m.GroupKind.WithVersion(""))
		mapping, err := env.Client.RESTMapper().RESTMapping(m.GroupKind)
		if err != nil {
			t.Errorf("Kustomization %s: %s: %v", name, id, err)
			continue
		}
		u.SetGroupVersionKind(mapping.GroupVersionKind)
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: m.Namespace, Name: m.Name}, u); err != nil {
			t.Errorf("Kustomization %s: inventory entry %s is not in the cluster: %v", name, id, err)
		}
	}
	return ids
}

// controllerPIDs returns the PID of every running controller process, by name.
func controllerPIDs() map[string]int {
	pids := map[string]int{}
	for _, c := range env.Controllers {
		if c.Running() {
			pids[c.Name] = c.PID()
		}
	}
	return pids
}

// checkSameProcesses fails t unless every controller of before still runs as the same process
// and answers /readyz.
func checkSameProcesses(t *testing.T, before map[string]int) {
	t.Helper()
	for _, c := range env.Controllers {
		pid, ok := before[c.Name]
		if !ok {
			continue
		}
		if !c.Running() {
			t.Errorf("%s exited; see its log", c.Name)
			continue
		}
		if c.PID() != pid {
			t.Errorf("%s runs as pid %d, was %d: it was restarted", c.Name, c.PID(), pid)
		}
		resp, err := http.Get("http://" + c.HealthAddr + "/readyz")
		if err != nil {
			t.Errorf("%s /readyz: %v", c.Name, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s /readyz: %s", c.Name, resp.Status)
		}
	}
	for name := range before {
		if !slices.ContainsFunc(env.Controllers, func(c *local.Controller) bool { return c.Name == name }) {
			t.Errorf("controller %s is gone", name)
		}
	}
}

// isLeader reports whether the controller process c says, on its metrics endpoint, that it
// holds its leader-election lease.
func isLeader(c *local.Controller) (bool, error) {
	resp, err := http.Get("http://" + c.MetricsAddr + "/metrics")
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("%s /metrics: %s", c.Name, resp.Status)
	}
	s := bufio.NewScanner(io.LimitReader(resp.Body, 16<<20))
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		line := s.Text()
		if strings.HasPrefix(line, "leader_election_master_status{") {
			return strings.HasSuffix(line, " 1"), nil
		}
	}
	return false, s.Err()
}

// controllerByName returns the controller process called name.
func controllerByName(t *testing.T, name string) *local.Controller {
	t.Helper()
	for _, c := range env.Controllers {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no controller %s", name)
	return nil
}
