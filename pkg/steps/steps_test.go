package steps

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/fluxcd/pkg/runtime/conditions"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
)

func TestRunStopsAtFirstErrorAndOnErrStop(t *testing.T) {
	var ran []string
	step := func(name string, err error) Step[*[]string] {
		return Step[*[]string]{Name: name, Run: func(_ context.Context, s *[]string) error {
			*s = append(*s, name)
			return err
		}}
	}
	boom := errors.New("boom")
	if err := Run(context.Background(), &ran, step("a", nil), step("b", boom), step("c", nil)); !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
	if fmt.Sprint(ran) != "[a b]" {
		t.Fatalf("ran %v, want [a b]", ran)
	}
	ran = nil
	if err := Run(context.Background(), &ran, step("a", ErrStop), step("b", nil)); err != nil {
		t.Fatalf("ErrStop must end the run as a success, got %v", err)
	}
	if fmt.Sprint(ran) != "[a]" {
		t.Fatalf("ran %v, want [a]", ran)
	}
}

func TestClassifySummarizeAndResult(t *testing.T) {
	const interval = 10 * time.Minute
	summary := Summary{Negative: []string{"FetchFailed"}, SuccessMessage: "stored revision x"}
	cases := []struct {
		name         string
		err          error
		ready        metav1.ConditionStatus
		reason       string
		reconciling  bool
		stalled      bool
		observation  bool
		requeueAfter time.Duration
		returnsErr   bool
	}{
		{name: "success", ready: metav1.ConditionTrue, reason: meta.SucceededReason, observation: true, requeueAfter: interval},
		{name: "stalled", err: fmt.Errorf("wrap: %w", Stalled("URLInvalid", errors.New("bad url"))), ready: metav1.ConditionFalse,
			reason: "URLInvalid", stalled: true, observation: true},
		{name: "waiting", err: Waiting(meta.DependencyNotReadyReason, 5*time.Second, errors.New("source 'a' not ready")),
			ready: metav1.ConditionFalse, reason: meta.DependencyNotReadyReason, reconciling: true, requeueAfter: 5 * time.Second},
		{name: "failed", err: Failed("GitOperationFailed", errors.New("timeout")), ready: metav1.ConditionFalse,
			reason: "GitOperationFailed", reconciling: true, returnsErr: true},
		{name: "plain error", err: errors.New("conflict"), ready: metav1.ConditionFalse, reason: meta.FailedReason,
			reconciling: true, returnsErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := &sourcev1.GitRepository{}
			// A previous failure left its marks; a success must clear them.
			conditions.MarkTrue(obj, "FetchFailed", "GitOperationFailed", "earlier")
			conditions.MarkStalled(obj, "Old", "earlier")
			o := Classify(tc.err, meta.FailedReason)
			summary.Apply(obj, o)

			ready := conditions.Get(obj, meta.ReadyCondition)
			if ready == nil || ready.Status != tc.ready || ready.Reason != tc.reason {
				t.Fatalf("Ready = %+v, want %s/%s", ready, tc.ready, tc.reason)
			}
			if tc.err != nil && ready.Message != tc.err.Error() {
				t.Errorf("Ready message %q, want the error %q", ready.Message, tc.err)
			}
			if got := conditions.Has(obj, meta.ReconcilingCondition); got != tc.reconciling {
				t.Errorf("Reconciling present = %v, want %v", got, tc.reconciling)
			}
			if got := conditions.Has(obj, meta.StalledCondition); got != tc.stalled {
				t.Errorf("Stalled present = %v, want %v", got, tc.stalled)
			}
			if got := conditions.Has(obj, "FetchFailed"); got == (tc.err == nil) {
				t.Errorf("FetchFailed present = %v after %s", got, tc.name)
			}
			if o.IsObservation() != tc.observation {
				t.Errorf("IsObservation = %v, want %v", o.IsObservation(), tc.observation)
			}
			res, err := Result(o, interval)
			if res.RequeueAfter != tc.requeueAfter || (err != nil) != tc.returnsErr {
				t.Errorf("Result = %+v, %v; want requeue %s, error %v", res, err, tc.requeueAfter, tc.returnsErr)
			}
		})
	}
}
