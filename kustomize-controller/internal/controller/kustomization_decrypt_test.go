package controller

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/testenv"
)

// sopsPlaintext is the secret value inside testdata/sops's encrypted files.
const sopsPlaintext = "hunter2-plaintext"

// TestSOPSDecryption: a SOPS-encrypted Secret and an encrypted secretGenerator env file, both
// encrypted with age, are applied decrypted; with the wrong key the Kustomization fails naming
// the object and the Secret of keys, applies nothing, and no plaintext reaches its status or
// events.
func TestSOPSDecryption(t *testing.T) {
	ctx := context.Background()
	fixture := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", "sops", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	files := map[string]string{
		"app/secret.yaml":   fixture("secret.enc.yaml"),
		"app/generated.env": fixture("generated.enc.env"),
		"app/kustomization.yaml": "resources: [secret.yaml]\n" +
			"secretGenerator: [{name: generated, envs: [generated.env], options: {disableNameSuffixHash: true}}]\n",
	}
	for _, tc := range []struct {
		name, key string
	}{{"right key", "keys.agekey"}, {"wrong key", "wrong.agekey"}} {
		t.Run(tc.name, func(t *testing.T) {
			ns := env.Namespace(t)
			keys := &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sops-keys"},
				Data:       map[string][]byte{"identity.agekey": []byte(fixture(tc.key))},
			}
			if err := env.Client.Create(ctx, keys); err != nil {
				t.Fatal(err)
			}
			publish(t, ns, "repo", "main@sha1:1", files)
			ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) {
				k.Spec.TargetNamespace = ns
				k.Spec.Decryption = &kustomizev1.Decryption{Provider: "sops", SecretRef: &meta.LocalObjectReference{Name: "sops-keys"}}
			})
			if tc.key == "wrong.agekey" {
				testenv.Eventually(t, timeout, env.ObjectIn(ks, meta.ReadyCondition, metav1.ConditionFalse, kustomizev1.DecryptionFailedReason,
					"app/generated.env: no key in Secret '"+ns+"/sops-keys' can decrypt it"))
				var s corev1.Secret
				for _, name := range []string{"db", "generated"} {
					if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &s); err == nil {
						t.Errorf("Secret %s was applied although it could not be decrypted", name)
					}
				}
				for _, ev := range env.Events(t, ns, "app") {
					if strings.Contains(ev.Message, sopsPlaintext) {
						t.Errorf("an event leaks the plaintext: %s", ev.Message)
					}
				}
				for _, c := range ks.Status.Conditions {
					if strings.Contains(c.Message, sopsPlaintext) || strings.Contains(c.Message, "AGE-SECRET-KEY") {
						t.Errorf("condition %s leaks a secret: %s", c.Type, c.Message)
					}
				}
				return
			}
			waitApplied(t, ks, "main@sha1:1")
			for name, want := range map[string]map[string]string{
				"db":        {"password": sopsPlaintext},
				"generated": {"USER": "app", "TOKEN": sopsPlaintext},
			} {
				var s corev1.Secret
				if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &s); err != nil {
					t.Fatal(err)
				}
				for k, v := range want {
					if string(s.Data[k]) != v {
						t.Errorf("Secret %s key %s = %q, want the decrypted value", name, k, s.Data[k])
					}
				}
				if _, ok := s.Data["sops"]; ok {
					t.Errorf("Secret %s kept its sops metadata", name)
				}
			}
		})
	}
}
