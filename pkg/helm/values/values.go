package values

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	helmv1 "weir.dev/api/helm/v1"
)

// DefaultKey is the data key read when a reference names none.
const DefaultKey = "values.yaml"

// Error is a values failure: a missing object or key, or content that is not valid YAML.
type Error struct {
	// Missing is true for an object or key that does not exist (it may appear later).
	Missing bool
	msg     string
}

func (e *Error) Error() string { return e.msg }

// Compose reads refs from namespace through reader, merges them in order and merges inline
// over them. A missing object or key is skipped when its reference is optional.
func Compose(ctx context.Context, reader client.Reader, namespace string, refs []helmv1.ValuesReference, inline *apiextensionsv1.JSON) (map[string]any, error) {
	result := map[string]any{}
	for i, ref := range refs {
		data, err := read(ctx, reader, namespace, ref)
		if err != nil {
			return nil, fmt.Errorf("spec.valuesFrom[%d]: %w", i, err)
		}
		if data == nil {
			continue
		}
		where := fmt.Sprintf("%s '%s/%s' key '%s'", ref.Kind, namespace, ref.Name, key(ref))
		if ref.TargetPath != "" {
			if err := SetPath(result, ref.TargetPath, string(data)); err != nil {
				return nil, fmt.Errorf("spec.valuesFrom[%d]: %s: %w", i, where, err)
			}
			continue
		}
		var m map[string]any
		if err := yaml.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("spec.valuesFrom[%d]: %w", i, &Error{msg: fmt.Sprintf("%s is not valid YAML: %s", where, yamlError(err))})
		}
		result = Merge(result, m)
	}
	if inline != nil && len(inline.Raw) > 0 {
		var m map[string]any
		if err := yaml.Unmarshal(inline.Raw, &m); err != nil {
			return nil, fmt.Errorf("spec.values: %w", &Error{msg: "not a YAML object: " + yamlError(err)})
		}
		result = Merge(result, m)
	}
	return result, nil
}

func key(ref helmv1.ValuesReference) string {
	if ref.ValuesKey == "" {
		return DefaultKey
	}
	return ref.ValuesKey
}

// read returns the referenced key's content, or nil for an optional reference to something
// missing.
func read(ctx context.Context, reader client.Reader, namespace string, ref helmv1.ValuesReference) ([]byte, error) {
	name := fmt.Sprintf("%s '%s/%s'", ref.Kind, namespace, ref.Name)
	k := key(ref)
	objKey := client.ObjectKey{Namespace: namespace, Name: ref.Name}
	var (
		data  []byte
		found bool
		err   error
	)
	switch ref.Kind {
	case "ConfigMap":
		var cm corev1.ConfigMap
		if err = reader.Get(ctx, objKey, &cm); err == nil {
			var s string
			if s, found = cm.Data[k]; found {
				data = []byte(s)
			} else {
				data, found = cm.BinaryData[k]
			}
		}
	case "Secret":
		var s corev1.Secret
		if err = reader.Get(ctx, objKey, &s); err == nil {
			data, found = s.Data[k]
		}
	default:
		return nil, &Error{msg: fmt.Sprintf("kind %q is not ConfigMap or Secret", ref.Kind)}
	}
	switch {
	case apierrors.IsNotFound(err):
		if ref.Optional {
			return nil, nil
		}
		return nil, &Error{Missing: true, msg: name + " not found"}
	case err != nil:
		return nil, fmt.Errorf("reading %s: %w", name, err)
	case !found:
		if ref.Optional {
			return nil, nil
		}
		return nil, &Error{Missing: true, msg: fmt.Sprintf("%s has no key '%s'", name, k)}
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}

// quoted matches what YAML parsers quote from the input in their messages.
var quoted = regexp.MustCompile("`[^`]*`|'[^']*'|\"[^\"]*\"")

// yamlError keeps a YAML parser's message, which gives the line, without the input it quotes:
// values may come from Secrets.
func yamlError(err error) string {
	msg := quoted.ReplaceAllString(err.Error(), "<value>")
	return strings.Join(strings.Fields(msg), " ")
}

// Merge merges src deeply into dst and returns dst: maps merge key by key, anything else in src
// replaces what dst holds.
func Merge(dst, src map[string]any) map[string]any {
	if dst == nil {
		dst = map[string]any{}
	}
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				dst[k] = Merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
	return dst
}
