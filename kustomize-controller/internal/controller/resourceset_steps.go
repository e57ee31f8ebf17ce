package controller

import (
	"fmt"
	"strings"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	"weir.dev/api/meta"
	setsv1 "weir.dev/api/sets/v1"
)

// setInput is one input of a run: what it renders to now, and what was applied for it before.
type setInput struct {
	name string
	step int // assignSteps

	objects   []*unstructured.Unstructured // reconcileRender: nil when it did not render
	ids       []string                     // reconcileRender: the objects' inventory IDs, sorted
	digest    string                       // reconcileRender: of the objects, with ownership labels
	renderErr error                        // reconcileRender
	prev      *setsv1.InputStatus          // reconcileRender: the last run's record, nil for a new input

	applyErr error // applyInput: the apply failed or was refused
}

// upToDate reports whether the input's objects were applied at the current rendering.
func (in *setInput) upToDate() bool {
	return in.renderErr == nil && in.prev != nil && in.prev.Digest == in.digest && in.prev.Error == ""
}

// stepName names step i of n for status and events.
func stepName(steps []setsv1.Step, i int) string {
	if i < len(steps) && steps[i].Name != "" {
		return steps[i].Name
	}
	return fmt.Sprintf("step-%d", i)
}

// assignSteps puts each input (sorted by name) in its step, and returns the number of steps:
// the first whose selector matches the labels of one of the input's objects, or that takes it
// by percentage of all inputs (rounded up), or a step with neither; inputs left over go to an
// implicit last step. An input that did not render matches no selector.
func assignSteps(strategy *setsv1.Strategy, inputs []*setInput) (int, error) {
	if strategy == nil || len(strategy.Steps) == 0 {
		for _, in := range inputs {
			in.step = 0
		}
		return 1, nil
	}
	steps := strategy.Steps
	selectors := make([]labels.Selector, len(steps))
	for i, s := range steps {
		if s.Selector == nil {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(s.Selector)
		if err != nil {
			return 0, fmt.Errorf("spec.strategy.steps[%d].selector: %w", i, err)
		}
		selectors[i] = sel
	}
	left := make([]*setInput, len(inputs))
	copy(left, inputs)
	for i, s := range steps {
		var rest []*setInput
		switch {
		case selectors[i] != nil:
			for _, in := range left {
				if matchesAny(selectors[i], in.objects) {
					in.step = i
				} else {
					rest = append(rest, in)
				}
			}
		case s.Percentage != nil:
			n := (int(*s.Percentage)*len(inputs) + 99) / 100
			for j, in := range left {
				if j < n {
					in.step = i
				} else {
					rest = append(rest, in)
				}
			}
		default:
			for _, in := range left {
				in.step = i
			}
		}
		left = rest
	}
	for _, in := range left {
		in.step = len(steps)
	}
	if len(left) > 0 {
		return len(steps) + 1, nil
	}
	return len(steps), nil
}

func matchesAny(sel labels.Selector, objects []*unstructured.Unstructured) bool {
	for _, o := range objects {
		if sel.Matches(labels.Set(o.GetLabels())) {
			return true
		}
	}
	return false
}

// objState is how far a generated object is at its current spec.
type objState int

const (
	objProgressing objState = iota
	objReady
	objFailed
)

// readiness says whether live, a generated object, is Ready at its current spec. An object
// with a Ready condition (every Weir kind) is Ready when the condition is True and was set for
// the object's current generation, and failed when it is False for that generation (but for a
// dependency it waits on); until then, and while a Weir object has no Ready condition yet, it
// is progressing. Other kinds follow kstatus (a
// ConfigMap is Ready once it exists, a Deployment once it is Available).
func readiness(live *unstructured.Unstructured) (objState, string) {
	conds, found, _ := unstructured.NestedSlice(live.Object, "status", "conditions")
	if found {
		for _, c := range conds {
			m, ok := c.(map[string]any)
			if !ok || m["type"] != meta.ReadyCondition {
				continue
			}
			gen := live.GetGeneration()
			og, _, _ := unstructured.NestedInt64(m, "observedGeneration")
			if og == 0 {
				og, _, _ = unstructured.NestedInt64(live.Object, "status", "observedGeneration")
			}
			if og < gen {
				return objProgressing, "not yet reconciled at its new spec"
			}
			msg, _ := m["message"].(string)
			switch m["status"] {
			case string(metav1.ConditionTrue):
				return objReady, ""
			case string(metav1.ConditionFalse):
				if m["reason"] == meta.DependencyNotReadyReason || m["reason"] == meta.ProgressingReason {
					return objProgressing, msg
				}
				return objFailed, msg
			}
			return objProgressing, msg
		}
	}
	if strings.HasSuffix(live.GroupVersionKind().Group, ".weir.dev") {
		// Every Weir kind reports Ready; without it, its controller has not looked yet.
		return objProgressing, "no Ready condition yet"
	}
	res, err := status.Compute(live)
	if err != nil {
		return objProgressing, err.Error()
	}
	switch res.Status {
	case status.CurrentStatus:
		return objReady, ""
	case status.FailedStatus:
		return objFailed, res.Message
	}
	return objProgressing, res.Message
}

// maxNamed bounds the inputs or objects one message names.
const maxNamed = 5

// nameSome joins up to maxNamed names, and says how many more there are.
func nameSome(names []string) string {
	if len(names) > maxNamed {
		return strings.Join(names[:maxNamed], "; ") + fmt.Sprintf("; and %d more", len(names)-maxNamed)
	}
	return strings.Join(names, "; ")
}
