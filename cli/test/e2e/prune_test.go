package e2e

import (
	"fmt"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// appKustomization is app/kustomization.yaml with extra resources.
func appKustomization(extra ...string) string {
	s := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - configmap.yaml\n  - deployment.yaml\n"
	for _, r := range extra {
		s += "  - " + r + "\n"
	}
	return s
}

// TestDeletedFileIsPrunedAndRevertRestoresIt adds a ConfigMap in its own file, deletes the
// file (the Kustomizations prune the ConfigMap) and reverts that commit (it comes back).
func TestDeletedFileIsPrunedAndRevertRestoresIt(t *testing.T) {
	writeFile(t, "app/extra.yaml", configMap("extra", "Hello from an extra file"))
	writeFile(t, "app/kustomization.yaml", appKustomization("extra.yaml"))
	added := commitAndPush(t, "Add an extra ConfigMap")
	triggerSource(t)
	appliedRevision(t, "app", added, 30*time.Second)
	appliedRevision(t, "app-staging", added, 30*time.Second)
	waitConfigMap(t, "extra", "Hello from an extra file")
	waitConfigMap(t, "staging-extra", "Hello from an extra file")

	git(t, "rm", "--quiet", "app/extra.yaml")
	writeFile(t, "app/kustomization.yaml", appKustomization())
	removed := commitAndPush(t, "Remove the extra ConfigMap")
	triggerSource(t)
	appliedRevision(t, "app", removed, 30*time.Second)
	appliedRevision(t, "app-staging", removed, 30*time.Second)
	for _, name := range []string{"extra", "staging-extra"} {
		eventually(t, 10*time.Second, "ConfigMap "+name+" pruned", func() error {
			_, err := configMapMessage(name)
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("still there (err %v)", err)
		})
	}
	if _, err := configMapMessage("podinfo-config"); err != nil {
		t.Errorf("pruning removed more than the deleted file's object: %v", err)
	}

	git(t, "revert", "--no-edit", "HEAD")
	reverted := push(t)
	triggerSource(t)
	appliedRevision(t, "app", reverted, 30*time.Second)
	appliedRevision(t, "app-staging", reverted, 30*time.Second)
	waitConfigMap(t, "extra", "Hello from an extra file")
	waitConfigMap(t, "staging-extra", "Hello from an extra file")
}
