package decrypt

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/ProtonMail/go-crypto/openpgp"
	pgparmor "github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/keys"
	"github.com/getsops/sops/v3/pgp"
	"github.com/getsops/sops/v3/shamir"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// Plaintext values the tests look for in errors and files: none may leak.
const (
	password = "hunter2-plaintext"
	apiToken = "tok-3f9a-plaintext"
)

const secretYAML = `apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: apps
type: Opaque
stringData:
  password: ` + password + `
  port: "5432"
data:
  token: dG9rLTNmOWEtcGxhaW50ZXh0
`

// masterKey returns the SOPS master key for an age identity or an OpenPGP entity, as
// `sops --encrypt --age …` or `--pgp …` records it.
func masterKey(t testing.TB, recipient any) keys.MasterKey {
	t.Helper()
	switch r := recipient.(type) {
	case *age.X25519Identity:
		mk, err := sopsage.MasterKeyFromRecipient(r.Recipient().String())
		if err != nil {
			t.Fatal(err)
		}
		return mk
	case *openpgp.Entity:
		// SOPS encrypts in process from a public keyring file; forbid its gpg fallback.
		t.Setenv(pgp.SopsGpgExecEnv, "/nonexistent/gpg")
		ring := filepath.Join(t.TempDir(), "pubring.gpg")
		var b bytes.Buffer
		if err := r.Serialize(&b); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(ring, b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		mk := pgp.NewMasterKeyFromFingerprint(fmt.Sprintf("%X", r.PrimaryKey.Fingerprint))
		pgp.PubRing(ring).ApplyToMasterKey(mk)
		return mk
	}
	t.Fatalf("unknown recipient %T", recipient)
	return nil
}

// encrypt encrypts a plaintext YAML document for recipients, as `sops --encrypt x.yaml` does.
func encrypt(t *testing.T, plaintext string, recipients ...any) []byte {
	t.Helper()
	return encryptAs(t, yamlFormat, plaintext, nil, recipients)
}

// encryptAs encrypts plaintext in format f with SOPS's own stores, cipher and key sources, as
// `sops --encrypt` does: rule sets an encryption rule (encrypted_regex, …) on the metadata,
// and each recipient list is a key group (several groups share the data key by Shamir).
func encryptAs(t testing.TB, f format, plaintext string, rule func(*sops.Metadata), groups ...[]any) []byte {
	t.Helper()
	s := f.store()
	branches, err := s.LoadPlainFile([]byte(plaintext))
	if err != nil {
		t.Fatal(err)
	}
	tree := sops.Tree{Branches: branches, Metadata: sops.Metadata{Version: "3.13.3"}}
	if rule != nil {
		rule(&tree.Metadata)
	} else {
		tree.Metadata.UnencryptedSuffix = sops.DefaultUnencryptedSuffix
	}
	dataKey := make([]byte, 32)
	if _, err := rand.Read(dataKey); err != nil {
		t.Fatal(err)
	}
	parts := [][]byte{dataKey}
	if len(groups) > 1 {
		tree.Metadata.ShamirThreshold = len(groups)
		if parts, err = shamir.Split(dataKey, len(groups), len(groups)); err != nil {
			t.Fatal(err)
		}
	}
	for i, recipients := range groups {
		var group sops.KeyGroup
		for _, r := range recipients {
			mk := masterKey(t, r)
			if err := mk.Encrypt(parts[i]); err != nil {
				t.Fatal(err)
			}
			group = append(group, mk)
		}
		tree.Metadata.KeyGroups = append(tree.Metadata.KeyGroups, group)
	}
	cipher := aes.NewCipher()
	mac, err := tree.Encrypt(dataKey, cipher)
	if err != nil {
		t.Fatal(err)
	}
	tree.Metadata.LastModified = time.Now().UTC()
	if tree.Metadata.MessageAuthenticationCode, err = cipher.Encrypt(mac, dataKey, tree.Metadata.LastModified.Format(time.RFC3339)); err != nil {
		t.Fatal(err)
	}
	out, err := s.EmitEncryptedFile(tree)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte(password)) || !bytes.Contains(out, []byte(sopsMarker)) {
		t.Fatalf("not encrypted:\n%s", out)
	}
	return out
}

// dataOnly is the rule Kubernetes users pick: --encrypted-regex '^(data|stringData)$'.
func dataOnly(md *sops.Metadata) { md.EncryptedRegex = "^(data|stringData)$" }

func newAgeIdentity(t *testing.T) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func newPGPEntity(t *testing.T) *openpgp.Entity {
	t.Helper()
	e, err := openpgp.NewEntity("weir test", "", "test@weir.dev", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func armoredPrivateKey(t *testing.T, e *openpgp.Entity, passphrase string) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := pgparmor.Encode(&b, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if passphrase != "" {
		if err := e.EncryptPrivateKeys([]byte(passphrase), nil); err != nil {
			t.Fatal(err)
		}
		err = e.SerializePrivateWithoutSigning(w, nil)
	} else {
		err = e.SerializePrivate(w, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func keySecret(entries map[string][]byte) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "sops-keys"}, Data: entries}
}

func decryptor(t testing.TB, entries map[string][]byte) *Decryptor {
	t.Helper()
	d, err := KeysFromSecret(keySecret(entries))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func ageDecryptor(t *testing.T, ids ...*age.X25519Identity) *Decryptor {
	t.Helper()
	var lines []string
	for _, id := range ids {
		lines = append(lines, "# public key: "+id.Recipient().String(), id.String())
	}
	return decryptor(t, map[string][]byte{"identity.agekey": []byte(strings.Join(lines, "\n") + "\n")})
}

func object(t *testing.T, doc []byte) *unstructured.Unstructured {
	t.Helper()
	obj := &unstructured.Unstructured{}
	if err := utilyaml.Unmarshal(doc, &obj.Object); err != nil {
		t.Fatal(err)
	}
	return obj
}

// wantError fails t unless err contains every part, and none of the plaintext or key material.
func wantError(t *testing.T, err error, parts []string, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one with %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
	for _, s := range append(secrets, password, apiToken, "dG9rLTNmOWEtcGxhaW50ZXh0", "AGE-SECRET-KEY", "PRIVATE KEY") {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q leaks %q", err, s)
		}
	}
}

func TestDecryptObjectsSecret(t *testing.T) {
	id := newAgeIdentity(t)
	want := object(t, []byte(secretYAML))
	suffix := func(md *sops.Metadata) { md.UnencryptedSuffix = "_unencrypted" }
	cases := map[string][]byte{
		"every value encrypted": encrypt(t, secretYAML, id),
		"encrypted_regex":       encryptAs(t, yamlFormat, secretYAML, dataOnly, []any{id}),
		"unencrypted_suffix":    encryptAs(t, yamlFormat, secretYAML+"metadata_unencrypted: {note: plain}\n", suffix, []any{id}),
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			obj := object(t, doc)
			cm := object(t, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\ndata: {sops: not-metadata}\n"))
			plain := cm.DeepCopy()
			if err := ageDecryptor(t, id).DecryptObjects([]*unstructured.Unstructured{cm, obj}); err != nil {
				t.Fatal(err)
			}
			if name == "unencrypted_suffix" {
				unstructured.RemoveNestedField(obj.Object, "metadata_unencrypted")
			}
			if !reflect.DeepEqual(obj.Object, want.Object) {
				t.Errorf("decrypted\n%v\nwant\n%v", obj.Object, want.Object)
			}
			if !reflect.DeepEqual(cm, plain) {
				t.Errorf("an object without sops metadata changed: %v", cm.Object)
			}
		})
	}
}

// Kustomize reorders fields and sets namespaces and labels: a built object still decrypts.
func TestDecryptObjectsAfterKustomize(t *testing.T) {
	id := newAgeIdentity(t)
	doc := encryptAs(t, yamlFormat, secretYAML, dataOnly, []any{id})
	obj := object(t, doc)
	obj.SetNamespace("prod")
	obj.SetLabels(map[string]string{"kustomize.weir.dev/name": "apps"})
	if err := ageDecryptor(t, id).DecryptObjects([]*unstructured.Unstructured{obj}); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := unstructured.NestedString(obj.Object, "stringData", "password"); got != password {
		t.Errorf("stringData.password = %q", got)
	}
	if obj.GetNamespace() != "prod" || obj.GetLabels()["kustomize.weir.dev/name"] != "apps" {
		t.Errorf("kustomize's metadata lost: %v", obj.Object["metadata"])
	}
}

func TestDecryptObjectsErrors(t *testing.T) {
	id := newAgeIdentity(t)
	doc := encrypt(t, secretYAML, id)
	regexDoc := encryptAs(t, yamlFormat, secretYAML, dataOnly, []any{id})

	t.Run("wrong age key", func(t *testing.T) {
		other := newAgeIdentity(t)
		obj := object(t, regexDoc)
		err := ageDecryptor(t, other).DecryptObjects([]*unstructured.Unstructured{obj})
		wantError(t, err, []string{"Secret apps/db", "no key in Secret 'apps/sops-keys' can decrypt it: tried age",
			"encrypted for age " + id.Recipient().String()}, other.String(), id.String())
	})
	t.Run("tampered ciphertext", func(t *testing.T) {
		obj := object(t, doc)
		enc, _, _ := unstructured.NestedString(obj.Object, "stringData", "password")
		data := strings.TrimPrefix(enc, "ENC[AES256_GCM,data:")
		flipped := map[byte]byte{'A': 'B'}[data[0]]
		if flipped == 0 {
			flipped = 'A'
		}
		tampered := "ENC[AES256_GCM,data:" + string(flipped) + data[1:]
		if err := unstructured.SetNestedField(obj.Object, tampered, "stringData", "password"); err != nil {
			t.Fatal(err)
		}
		err := ageDecryptor(t, id).DecryptObjects([]*unstructured.Unstructured{obj})
		wantError(t, err, []string{"an object whose kind or name is encrypted", "MAC mismatch", "'stringData.password'"})
	})
	t.Run("value moved to another field", func(t *testing.T) {
		obj := object(t, doc)
		enc, _, _ := unstructured.NestedString(obj.Object, "stringData", "password")
		if err := unstructured.SetNestedField(obj.Object, enc, "stringData", "port"); err != nil {
			t.Fatal(err)
		}
		err := ageDecryptor(t, id).DecryptObjects([]*unstructured.Unstructured{obj})
		wantError(t, err, []string{"MAC mismatch", "'stringData.port'"})
	})
	t.Run("plaintext where ciphertext belongs", func(t *testing.T) {
		obj := object(t, regexDoc)
		if err := unstructured.SetNestedField(obj.Object, apiToken, "stringData", "extra"); err != nil {
			t.Fatal(err)
		}
		err := ageDecryptor(t, id).DecryptObjects([]*unstructured.Unstructured{obj})
		wantError(t, err, []string{"Secret apps/db", "'stringData.extra' is not SOPS ciphertext"})
	})
}

func TestKeysFromSecret(t *testing.T) {
	id := newAgeIdentity(t)
	entity := newPGPEntity(t)
	public := func() []byte {
		var b bytes.Buffer
		w, _ := pgparmor.Encode(&b, openpgp.PublicKeyType, nil)
		if err := entity.Serialize(w); err != nil {
			t.Fatal(err)
		}
		w.Close()
		return b.Bytes()
	}()
	cases := []struct {
		name    string
		entries map[string][]byte
		want    []string
	}{
		{"no key entries", map[string][]byte{"token": []byte(apiToken)},
			[]string{"Secret 'apps/sops-keys' has no decryption key", ".agekey", ".asc"}},
		{"empty Secret", nil, []string{"Secret 'apps/sops-keys' has no decryption key"}},
		{"bad age line", map[string][]byte{"a.agekey": []byte(id.String() + "\nAGE-SECRET-KEY-1" + password + "\n")},
			[]string{"entry 'a.agekey' of Secret 'apps/sops-keys'", "line 2 is not an age identity"}},
		{"age plugin", map[string][]byte{"p.agekey": []byte("AGE-PLUGIN-YUBIKEY-1XYZ\n")},
			[]string{"entry 'p.agekey'", "plugin identity, which is not supported"}},
		{"comments only", map[string][]byte{"c.agekey": []byte("# nothing\n")},
			[]string{"entry 'c.agekey'", "no age identity"}},
		{"not armored", map[string][]byte{"k.asc": []byte(password)},
			[]string{"entry 'k.asc'", "not an ASCII-armored OpenPGP key"}},
		{"public key", map[string][]byte{"k.asc": public},
			[]string{"entry 'k.asc'", "is a public key"}},
		{"passphrase", map[string][]byte{"k.asc": armoredPrivateKey(t, newPGPEntity(t), "secret")},
			[]string{"entry 'k.asc'", "protected by a passphrase"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := KeysFromSecret(keySecret(tc.entries))
			wantError(t, err, tc.want, id.String())
		})
	}
}

func TestDecryptOpenPGP(t *testing.T) {
	entity := newPGPEntity(t)
	key := armoredPrivateKey(t, entity, "")
	ageID := newAgeIdentity(t)

	// Two keys in one entry, as `gpg --export-secret-keys a b` writes them in two blocks.
	other := newPGPEntity(t)
	d := decryptor(t, map[string][]byte{"keys.asc": append(armoredPrivateKey(t, other, ""), key...)})
	for name, doc := range map[string][]byte{
		"OpenPGP only":    encrypt(t, secretYAML, entity),
		"age and OpenPGP": encrypt(t, secretYAML, ageID, entity),
	} {
		t.Run(name, func(t *testing.T) {
			obj := object(t, doc)
			if err := d.DecryptObjects([]*unstructured.Unstructured{obj}); err != nil {
				t.Fatal(err)
			}
			if got, _, _ := unstructured.NestedString(obj.Object, "stringData", "password"); got != password {
				t.Errorf("stringData.password = %q", got)
			}
		})
	}
	t.Run("wrong key", func(t *testing.T) {
		obj := object(t, encryptAs(t, yamlFormat, secretYAML, dataOnly, []any{entity}))
		wrong := decryptor(t, map[string][]byte{"other.asc": armoredPrivateKey(t, newPGPEntity(t), "")})
		err := wrong.DecryptObjects([]*unstructured.Unstructured{obj})
		wantError(t, err, []string{"Secret apps/db", "tried OpenPGP", fmt.Sprintf("OpenPGP %X", entity.PrimaryKey.Fingerprint)})
	})
}

func TestDecryptShamirKeyGroups(t *testing.T) {
	a, b := newAgeIdentity(t), newAgeIdentity(t)
	doc := encryptAs(t, yamlFormat, secretYAML, dataOnly, []any{a}, []any{b})
	obj := object(t, doc)
	if err := ageDecryptor(t, a, b).DecryptObjects([]*unstructured.Unstructured{obj}); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := unstructured.NestedString(obj.Object, "stringData", "password"); got != password {
		t.Errorf("stringData.password = %q", got)
	}
	err := ageDecryptor(t, a).DecryptObjects([]*unstructured.Unstructured{object(t, doc)})
	wantError(t, err, []string{"Secret apps/db", "open 1 of the 2 key groups"})
}

// tree writes files (path: content) under a new root and returns it.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const dbEnv = "DB_PASSWORD=" + password + "\nDB_USER=app\n"
const configYAML = "token: " + apiToken + "\nlimits:\n    rps: 10\n"

func TestDecryptGeneratorFiles(t *testing.T) {
	id := newAgeIdentity(t)
	root := tree(t, map[string]string{
		"apps/prod/kustomization.yaml": `resources: [../base, https://example.com/remote.yaml, deploy.yaml]
secretGenerator:
- name: db
  envs: [db.env]
- name: app
  files: [config.yaml, ca.crt]
`,
		"apps/prod/db.env":      string(encryptAs(t, dotenvFormat, dbEnv, nil, []any{id})),
		"apps/prod/config.yaml": string(encrypt(t, configYAML, id)),
		"apps/prod/ca.crt":      "-----BEGIN CERTIFICATE-----\nplain\n",
		"apps/base/kustomization.yml": `secretGenerator:
- name: settings
  files: [key.json=settings.json, raw=blob.bin]
`,
		"apps/base/settings.json": string(encryptAs(t, jsonFormat, `{"apiToken": "`+apiToken+`", "retries": 3}`, nil, []any{id})),
		"apps/base/blob.bin":      string(encryptAs(t, binaryFormat, "raw bytes "+password, nil, []any{id})),
		"apps/other/kustomization.yaml": `secretGenerator:
- {name: unused, envs: [x.env]}
`,
		"apps/other/x.env": string(encryptAs(t, dotenvFormat, dbEnv, nil, []any{newAgeIdentity(t)})),
	})
	if err := ageDecryptor(t, id).DecryptGeneratorFiles(root, filepath.Join(root, "apps/prod")); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(root, "apps/prod/db.env")); got != dbEnv {
		t.Errorf("db.env = %q, want %q", got, dbEnv)
	}
	var config map[string]any
	if err := utilyaml.Unmarshal([]byte(readFile(t, filepath.Join(root, "apps/prod/config.yaml"))), &config); err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"token": apiToken, "limits": map[string]any{"rps": int64(10)}}; !reflect.DeepEqual(config, want) {
		t.Errorf("config.yaml = %v, want %v", config, want)
	}
	if got := readFile(t, filepath.Join(root, "apps/base/settings.json")); !strings.Contains(got, `"apiToken": "`+apiToken+`"`) || strings.Contains(got, "sops") {
		t.Errorf("settings.json = %q", got)
	}
	if got := readFile(t, filepath.Join(root, "apps/base/blob.bin")); got != "raw bytes "+password {
		t.Errorf("blob.bin = %q", got)
	}
	if got := readFile(t, filepath.Join(root, "apps/prod/ca.crt")); got != "-----BEGIN CERTIFICATE-----\nplain\n" {
		t.Errorf("a plain file changed: %q", got)
	}
	if fi, err := os.Stat(filepath.Join(root, "apps/prod/db.env")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("db.env mode %v, %v; want 0600", fi.Mode(), err)
	}
	// Not referenced from apps/prod: left encrypted (its key is not even in the Secret).
	if got := readFile(t, filepath.Join(root, "apps/other/x.env")); !strings.Contains(got, "sops_mac=ENC[") {
		t.Errorf("an unreferenced file was touched: %q", got)
	}
}

func TestDecryptGeneratorFilesErrors(t *testing.T) {
	id := newAgeIdentity(t)
	env := string(encryptAs(t, dotenvFormat, dbEnv, nil, []any{id}))
	kustomization := "secretGenerator:\n- {name: db, envs: [db.env]}\n"

	t.Run("wrong age key", func(t *testing.T) {
		other := newAgeIdentity(t)
		root := tree(t, map[string]string{"apps/kustomization.yaml": kustomization, "apps/db.env": env})
		err := ageDecryptor(t, other).DecryptGeneratorFiles(root, "apps")
		wantError(t, err, []string{"apps/db.env: no key in Secret 'apps/sops-keys' can decrypt it: tried age",
			id.Recipient().String()}, root, other.String())
		if readFile(t, filepath.Join(root, "apps/db.env")) != env {
			t.Error("the file changed")
		}
	})
	t.Run("line removed", func(t *testing.T) {
		var kept []string
		for _, l := range strings.Split(env, "\n") {
			if !strings.HasPrefix(l, "DB_USER=") {
				kept = append(kept, l)
			}
		}
		root := tree(t, map[string]string{"apps/kustomization.yaml": kustomization, "apps/db.env": strings.Join(kept, "\n")})
		err := ageDecryptor(t, id).DecryptGeneratorFiles(root, "apps")
		wantError(t, err, []string{"apps/db.env: MAC mismatch"})
	})
	t.Run("unencrypted value changed", func(t *testing.T) {
		doc := string(encryptAs(t, yamlFormat, configYAML, func(md *sops.Metadata) { md.EncryptedRegex = "^token$" }, []any{id}))
		root := tree(t, map[string]string{
			"kustomization.yaml": "secretGenerator:\n- {name: app, files: [config.yaml]}\n",
			"config.yaml":        strings.Replace(doc, "rps: 10", "rps: 99999", 1),
		})
		err := ageDecryptor(t, id).DecryptGeneratorFiles(root, root)
		wantError(t, err, []string{"config.yaml: MAC mismatch"})
	})
	t.Run("path leaves the root", func(t *testing.T) {
		outside := tree(t, map[string]string{"db.env": env})
		root := tree(t, map[string]string{
			"apps/kustomization.yaml": "secretGenerator:\n- {name: db, envs: [../../" + filepath.Base(outside) + "/db.env]}\n",
		})
		err := ageDecryptor(t, id).DecryptGeneratorFiles(root, "apps")
		wantError(t, err, []string{"apps/kustomization.yaml", "is outside the source root"}, root)
	})
	t.Run("symlink leaves the root", func(t *testing.T) {
		outside := tree(t, map[string]string{"db.env": env})
		root := tree(t, map[string]string{"apps/kustomization.yaml": kustomization})
		rel, err := filepath.Rel(filepath.Join(root, "apps"), filepath.Join(outside, "db.env"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(rel, filepath.Join(root, "apps/db.env")); err != nil {
			t.Fatal(err)
		}
		err = ageDecryptor(t, id).DecryptGeneratorFiles(root, "apps")
		wantError(t, err, []string{"apps/kustomization.yaml", "'db.env'", "symlink leads outside the source root"}, root, outside)
		if readFile(t, filepath.Join(outside, "db.env")) != env {
			t.Error("the file outside the root changed")
		}
	})
	t.Run("dir leaves the root", func(t *testing.T) {
		root := tree(t, nil)
		err := ageDecryptor(t, id).DecryptGeneratorFiles(root, "../elsewhere")
		wantError(t, err, []string{"'../elsewhere' is outside the source root"})
	})
	t.Run("ciphertext without metadata", func(t *testing.T) {
		var kept []string
		for _, l := range strings.Split(env, "\n") {
			if !strings.HasPrefix(l, "sops_") {
				kept = append(kept, l)
			}
		}
		root := tree(t, map[string]string{"apps/kustomization.yaml": kustomization, "apps/db.env": strings.Join(kept, "\n")})
		err := ageDecryptor(t, id).DecryptGeneratorFiles(root, "apps")
		wantError(t, err, []string{"apps/db.env: it holds SOPS ciphertext but no sops metadata"})
	})
}
