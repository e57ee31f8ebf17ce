package cmd

import (
	"encoding/json"
	"fmt"
	"io"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"weir.dev/api/meta"
	"weir.dev/cli/internal/objects"
)

// treeNode is one object of `weir tree -o json|yaml`: what a line of the text tree says.
type treeNode struct {
	Kind      string `json:"kind,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Status is the kstatus status of an inventory's object, or NotFound or Unknown; Message
	// says why when it is not Current.
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
	// Wave is the kustomize.weir.dev/wave of an applied object.
	Wave string `json:"wave,omitempty"`
	// Progress is what a reconciling root is doing (Reconciling's message).
	Progress string `json:"progress,omitempty"`
	// Ready is a dependency's Ready state ("Ready=False InstallFailed"), with --deps.
	Ready     string `json:"ready,omitempty"`
	ReadyExpr string `json:"readyExpr,omitempty"`
	// Blocking says why a dependency keeps its dependent waiting, with --deps.
	Blocking string `json:"blocking,omitempty"`
	// Note says why a node's children are not listed: already shown, a cycle, too deep.
	Note string `json:"note,omitempty"`
	// Children are an inventory's objects, or with --deps the object's dependencies.
	Children []*treeNode `json:"children,omitempty"`
	// Hooks are the root Kustomization's status.hooks, as the API has them.
	Hooks []any `json:"hooks,omitempty"`
}

// setHealth sets n's status, message and wave from the live object u.
func (n *treeNode) setHealth(u *unstructured.Unstructured) {
	st, msg := objects.Health(u)
	n.Status, n.Message = st.String(), msg
	if n.Status == "Current" {
		n.Message = ""
	}
	if w, ok := u.GetAnnotations()[waveAnnotation]; ok {
		n.Wave = w
	}
}

// progressOf is Reconciling's message while it is true, "" otherwise.
func progressOf(u *unstructured.Unstructured) string {
	c := apimeta.FindStatusCondition(objects.Conditions(u), meta.ReconcilingCondition)
	if c == nil || c.Status != metav1.ConditionTrue {
		return ""
	}
	return c.Message
}

// printStructured prints v as indented JSON or as YAML.
func printStructured(w io.Writer, format string, v any) error {
	var out []byte
	var err error
	switch format {
	case "json":
		out, err = json.MarshalIndent(v, "", "  ")
		out = append(out, '\n')
	case "yaml":
		out, err = yaml.Marshal(v)
	default:
		return fmt.Errorf("unknown output format %q: want json or yaml", format)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}
