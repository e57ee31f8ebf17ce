// Package decrypt decrypts the SOPS-encrypted parts of a Kustomization's source with the age
// and OpenPGP private keys of a Secret: the files that secretGenerators read, before the
// kustomize build, and the encrypted objects the build returns.
//
// Everything runs in process (no gpg, no age plugins, no key from the environment). Errors
// name the object (Kind namespace/name) or the file (by its path in the source) and say what
// failed; they never contain plaintext or key material. Plaintext is written only into the
// source root the caller passes, a temporary directory that it deletes.
package decrypt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/logging"
	"github.com/getsops/sops/v3/stores/dotenv"
	"github.com/getsops/sops/v3/stores/ini"
	sopsjson "github.com/getsops/sops/v3/stores/json"
	sopsyaml "github.com/getsops/sops/v3/stores/yaml"
	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
)

// MaxFileSize is the largest file DecryptGeneratorFiles reads, kustomization or encrypted.
const MaxFileSize = 5 << 20

// sopsMarker is in every SOPS-encrypted file: at least its MAC is encrypted.
const sopsMarker = "ENC[AES256_GCM,"

func init() {
	// SOPS logs through its own loggers; some entries carry values (a comment it could not
	// decrypt). Nothing of SOPS's should reach the controller's output.
	for _, l := range logging.Loggers {
		l.SetOutput(io.Discard)
	}
}

// DecryptObjects decrypts, in place, every object with a top-level `sops` field (a document as
// `sops --encrypt` writes it, with any encrypted_regex, unencrypted_suffix or similar rule),
// replacing it by its plaintext without the `sops` field; a Secret thus gets the data and
// stringData it was written with. Other objects are untouched.
//
// Each encrypted value is authenticated (AES-GCM, bound to its field path), but the document
// MAC is not checked: kustomize reorders fields and sets namespaces, labels and names, so a
// built object never hashes as its file did. DecryptGeneratorFiles checks MACs.
func (d *Decryptor) DecryptObjects(objs []*unstructured.Unstructured) error {
	for _, obj := range objs {
		if _, ok := obj.Object[sopsMetadataKey]; !ok {
			continue
		}
		if err := d.decryptObject(obj); err != nil {
			return fmt.Errorf("%s: %w", objectName(obj), err)
		}
	}
	return nil
}

const sopsMetadataKey = "sops"

func (d *Decryptor) decryptObject(obj *unstructured.Unstructured) error {
	in, err := json.Marshal(obj.Object)
	if err != nil {
		return err
	}
	out, err := d.decrypt(in, jsonFormat, false)
	if err != nil {
		return err
	}
	var content map[string]any
	// utiljson keeps integers int64, as the API machinery expects.
	if err := utiljson.Unmarshal(out, &content); err != nil {
		return errors.New("its plaintext is not a JSON object")
	}
	obj.SetUnstructuredContent(content)
	return nil
}

// objectName names obj as "Kind namespace/name", or says that its identity is encrypted too.
func objectName(obj *unstructured.Unstructured) string {
	kind, ns, name := obj.GetKind(), obj.GetNamespace(), obj.GetName()
	for _, s := range []string{kind, ns, name} {
		if strings.HasPrefix(s, sopsMarker) {
			return "an object whose kind or name is encrypted (encrypt only data and stringData: sops --encrypted-regex '^(data|stringData)$')"
		}
	}
	if ns != "" {
		return fmt.Sprintf("%s %s/%s", kind, ns, name)
	}
	return fmt.Sprintf("%s %s", kind, name)
}

// kustomizationFiles are the names kustomize reads in a directory, in its order.
var kustomizationFiles = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// kustomization is what DecryptGeneratorFiles reads of a kustomization file.
type kustomization struct {
	Resources       []string `yaml:"resources"`
	Components      []string `yaml:"components"`
	Bases           []string `yaml:"bases"`
	SecretGenerator []struct {
		Files []string `yaml:"files"` // [key=]path
		Envs  []string `yaml:"envs"`
		Env   string   `yaml:"env"` // the deprecated single form of envs
	} `yaml:"secretGenerator"`
}

// DecryptGeneratorFiles decrypts, in place, the SOPS-encrypted files that secretGenerator
// entries (files and envs) read, in the kustomization of dir and of every local directory it
// refers to (resources, components, bases), so the kustomize build that follows sees
// plaintext. root is the extracted source, a temporary directory the caller deletes; dir is
// inside it, absolute or relative to it. The format follows the file's extension as sops
// chooses it (.yaml/.yml, .json, .env, .ini, else binary or, by content, dotenv). Each file's
// MAC is checked. A generator path leaving root, by ../ or a symlink, is an error; files
// without SOPS ciphertext are left as they are.
func (d *Decryptor) DecryptGeneratorFiles(root, dir string) error {
	rel := filepath.Clean(dir)
	if filepath.IsAbs(dir) {
		var err error
		if rel, err = filepath.Rel(root, dir); err != nil {
			return fmt.Errorf("directory '%s' is outside the source root", dir)
		}
	}
	if leaves(rel) {
		return fmt.Errorf("directory '%s' is outside the source root", filepath.ToSlash(rel))
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return err
	}
	defer r.Close()
	g := &generatorWalk{d: d, root: r, dirs: map[string]bool{}, files: map[string]bool{}}
	return g.visit(rel)
}

// generatorWalk is one DecryptGeneratorFiles run; paths are relative to root.
type generatorWalk struct {
	d     *Decryptor
	root  *os.Root
	dirs  map[string]bool // kustomization directories visited
	files map[string]bool // generator files handled
}

func (g *generatorWalk) visit(dir string) error {
	if g.dirs[dir] {
		return nil
	}
	g.dirs[dir] = true
	file, k, err := g.readKustomization(dir)
	if err != nil || k == nil {
		return err
	}
	for _, gen := range k.SecretGenerator {
		for _, src := range gen.Files {
			_, path, found := strings.Cut(src, "=")
			if !found {
				path = src
			}
			if err := g.decryptFile(file, dir, path); err != nil {
				return err
			}
		}
		for _, env := range slices.Concat(gen.Envs, []string{gen.Env}) {
			if env == "" {
				continue
			}
			if err := g.decryptFile(file, dir, env); err != nil {
				return err
			}
		}
	}
	for _, ref := range slices.Concat(k.Resources, k.Components, k.Bases) {
		sub := filepath.Join(dir, ref)
		if filepath.IsAbs(ref) || leaves(sub) {
			continue // kustomize refuses it; nothing of ours to read there
		}
		if fi, err := g.root.Stat(sub); err == nil && fi.IsDir() {
			if err := g.visit(sub); err != nil {
				return err
			}
		}
	}
	return nil
}

// readKustomization returns the path and content of dir's kustomization, or nil if it has none.
func (g *generatorWalk) readKustomization(dir string) (string, *kustomization, error) {
	for _, name := range kustomizationFiles {
		path := filepath.Join(dir, name)
		data, err := g.readFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", nil, fmt.Errorf("%s: %w", filepath.ToSlash(path), err)
		}
		var k kustomization
		if err := yaml.Unmarshal(data, &k); err != nil {
			return "", nil, fmt.Errorf("%s: not a valid kustomization: %w", filepath.ToSlash(path), err)
		}
		return filepath.ToSlash(path), &k, nil
	}
	return "", nil, nil
}

// decryptFile decrypts ref, a generator path in the kustomization file of dir, in place.
func (g *generatorWalk) decryptFile(file, dir, ref string) error {
	path := filepath.Join(dir, ref)
	if filepath.IsAbs(ref) || leaves(path) {
		return fmt.Errorf("%s: secretGenerator path '%s' is outside the source root", file, ref)
	}
	if g.files[path] {
		return nil
	}
	g.files[path] = true
	if fi, err := g.root.Stat(path); err == nil && fi.IsDir() {
		return nil // not a file kustomize reads; it reports that itself
	}
	data, err := g.readFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // kustomize reports the missing file
	}
	if err != nil {
		return fmt.Errorf("%s: secretGenerator path '%s': %w", file, ref, err)
	}
	if !bytes.Contains(data, []byte(sopsMarker)) {
		return nil
	}
	out, err := g.d.decrypt(data, formatFor(path, data), true)
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.ToSlash(path), err)
	}
	if err := g.root.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("%s: %w", filepath.ToSlash(path), err)
	}
	if err := g.root.WriteFile(path, out, 0o600); err != nil {
		return fmt.Errorf("%s: writing the plaintext: %w", filepath.ToSlash(path), err)
	}
	return nil
}

// readFile reads a regular file of at most MaxFileSize inside root, through symlinks that
// stay inside it. Errors do not name the temporary directory.
func (g *generatorWalk) readFile(path string) ([]byte, error) {
	f, err := g.root.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if strings.Contains(err.Error(), "path escapes from parent") {
			return nil, errors.New("a symlink leads outside the source root")
		}
		return nil, errors.New("cannot be opened")
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if fi.Size() > MaxFileSize {
		return nil, fmt.Errorf("larger than %d MiB", MaxFileSize>>20)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("larger than %d MiB", MaxFileSize>>20)
	}
	return data, nil
}

// leaves reports whether path, cleaned and relative to root, is outside root.
func leaves(path string) bool {
	return path == ".." || strings.HasPrefix(path, ".."+string(filepath.Separator))
}

// format is a SOPS file format.
type format string

const (
	yamlFormat   format = "YAML"
	jsonFormat   format = "JSON"
	dotenvFormat format = "dotenv"
	iniFormat    format = "INI"
	binaryFormat format = "binary"
)

// formatFor chooses the format as `sops --decrypt path` does, by extension; a file without a
// known one is binary (sops's JSON envelope) unless its metadata is in dotenv form, as when an
// env file was encrypted with --input-type dotenv.
func formatFor(path string, data []byte) format {
	switch {
	case strings.HasSuffix(path, ".yaml"), strings.HasSuffix(path, ".yml"):
		return yamlFormat
	case strings.HasSuffix(path, ".json"):
		return jsonFormat
	case strings.HasSuffix(path, ".env"):
		return dotenvFormat
	case strings.HasSuffix(path, ".ini"):
		return iniFormat
	case bytes.Contains(data, []byte("sops_mac=")):
		return dotenvFormat
	}
	return binaryFormat
}

func (f format) store() sops.Store {
	switch f {
	case yamlFormat:
		return sopsyaml.NewStore(&config.YAMLStoreConfig{})
	case jsonFormat:
		return sopsjson.NewStore(&config.JSONStoreConfig{})
	case dotenvFormat:
		return dotenv.NewStore(&config.DotenvStoreConfig{})
	case iniFormat:
		return ini.NewStore(&config.INIStoreConfig{})
	}
	return sopsjson.NewBinaryStore(&config.JSONBinaryStoreConfig{})
}

// decrypt returns the plaintext of data, a SOPS document in format f, in the same format.
// With checkMAC it verifies the document's MAC, which covers every value and their order.
func (d *Decryptor) decrypt(data []byte, f format, checkMAC bool) (_ []byte, err error) {
	defer func() {
		// Malformed input has made the SOPS library panic before.
		if r := recover(); r != nil {
			err = fmt.Errorf("cannot decrypt it as a SOPS %s document: malformed", f)
		}
	}()
	s := f.store()
	tree, err := s.LoadEncryptedFile(data)
	if errors.Is(err, sops.MetadataNotFound) {
		return nil, errors.New("it holds SOPS ciphertext but no sops metadata")
	}
	if err != nil {
		// The parser's message may quote the document: say only what failed.
		return nil, fmt.Errorf("cannot read it as a SOPS-encrypted %s document", f)
	}
	key, err := d.dataKey(tree.Metadata)
	if err != nil {
		return nil, err
	}
	c := &valueCipher{aes: aes.NewCipher()}
	mac, err := tree.Decrypt(key, c)
	if err != nil {
		if c.err != nil {
			return nil, c.err
		}
		return nil, errors.New("its values do not have the structure SOPS writes")
	}
	if checkMAC {
		want, err := aes.NewCipher().Decrypt(tree.Metadata.MessageAuthenticationCode, key,
			tree.Metadata.LastModified.Format(time.RFC3339))
		if err != nil || want != mac {
			return nil, errors.New("MAC mismatch: it was changed after it was encrypted")
		}
	}
	out, err := s.EmitPlainFile(tree.Branches)
	if err != nil {
		return nil, fmt.Errorf("cannot write its plaintext as %s", f)
	}
	return out, nil
}

// valueCipher decrypts values with SOPS's AES-GCM cipher and keeps, for the value that failed
// last, an error that names its field path but not the value: SOPS's own errors quote it,
// and a value that is not ciphertext may be plaintext.
type valueCipher struct {
	aes sops.Cipher
	err error
}

func (c *valueCipher) Encrypt(any, []byte, string) (string, error) {
	return "", errors.New("encryption is not supported")
}

func (c *valueCipher) Decrypt(value string, key []byte, path string) (any, error) {
	plaintext, err := c.aes.Decrypt(value, key, path)
	if err != nil {
		field := strings.ReplaceAll(strings.TrimSuffix(path, ":"), ":", ".")
		switch {
		case !strings.HasPrefix(value, sopsMarker):
			c.err = fmt.Errorf("the value of '%s' is not SOPS ciphertext: it was changed after encryption", field)
		case strings.Contains(err.Error(), "message authentication failed"):
			c.err = fmt.Errorf("MAC mismatch: the value of '%s' fails authentication: it was changed or moved after encryption", field)
		default:
			c.err = fmt.Errorf("the value of '%s' is malformed SOPS ciphertext", field)
		}
	}
	return plaintext, err
}
