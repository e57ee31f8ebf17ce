package controller

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	kustomizev1 "weir.dev/api/kustomize/v1"

	"weir.dev/pkg/testenv"
)

// TestKustomizeWarnings: a build whose kustomization.yaml uses a deprecated field (and leaves a
// var unreplaced) is applied, its deprecation is a Normal event on the Kustomization naming
// the file, and both warnings are in the controller's log with the Kustomization's name.
func TestKustomizeWarnings(t *testing.T) {
	ns := env.Namespace(t)
	publish(t, ns, "repo", "main@sha1:1", map[string]string{
		"app/kustomization.yaml": "resources: [a.yaml]\npatchesStrategicMerge: [patch.yaml]\n" +
			"vars:\n- name: UNUSED\n  objref: {apiVersion: v1, kind: ConfigMap, name: a}\n",
		"app/a.yaml":     configMap("a", "1"),
		"app/patch.yaml": configMap("a", "patched"),
	})
	ks := createKustomization(t, ns, "warned", "./app", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns })
	waitApplied(t, ks, "main@sha1:1")
	waitConfigMap(t, ns, "a", "patched")

	testenv.Eventually(t, timeout, func() error {
		for _, ev := range env.Events(t, ns, "warned") {
			if ev.Type == corev1.EventTypeNormal && ev.Reason == deprecatedFieldReason &&
				strings.Contains(ev.Message, "app/kustomization.yaml: 'patchesStrategicMerge' is deprecated") {
				return nil
			}
		}
		return errors.New("no DeprecatedKustomizeField event naming app/kustomization.yaml")
	})
	testenv.Eventually(t, timeout, func() error {
		var deprecated, unused bool
		for line := range strings.SplitSeq(logs.String(), "\n") {
			if !strings.Contains(line, "kustomize warned about the build") || !strings.Contains(line, `"name":"warned"`) ||
				!strings.Contains(line, ns) {
				continue
			}
			deprecated = deprecated || strings.Contains(line, "'patchesStrategicMerge' is deprecated")
			unused = unused || strings.Contains(line, "never replaced: UNUSED")
		}
		if !deprecated || !unused {
			return fmt.Errorf("log lines naming Kustomization %s/warned: deprecation %v, unused var %v", ns, deprecated, unused)
		}
		return nil
	})
}
