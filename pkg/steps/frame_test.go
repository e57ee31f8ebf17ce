package steps_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fluxcd/pkg/runtime/conditions"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/steps"
	"weir.dev/pkg/testenv"
)

var env *testenv.Environment

func TestMain(m *testing.M) { testenv.Main(m, &env) }

const interval = 7 * time.Minute

// owned are the conditions the test frame's controller owns.
var owned = []string{meta.ReadyCondition, meta.ReconcilingCondition, meta.StalledCondition}

// newObject creates a GitRepository (any Weir kind serves: the frame does not fetch) in a
// namespace of its own.
func newObject(t *testing.T, mutate func(*sourcev1.GitRepository)) *sourcev1.GitRepository {
	t.Helper()
	obj := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Name: "frame", Namespace: env.Namespace(t)}}
	obj.Spec.URL = "https://127.0.0.1/unused.git"
	obj.Spec.Interval = metav1.Duration{Duration: interval}
	if mutate != nil {
		mutate(obj)
	}
	if err := env.Client.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

func testFrame(mutate func(*steps.Frame[*sourcev1.GitRepository])) steps.Frame[*sourcev1.GitRepository] {
	f := steps.Frame[*sourcev1.GitRepository]{Reader: env.Client, Client: env.Client, FieldOwner: "frame-test", OwnedConditions: owned}
	if mutate != nil {
		mutate(&f)
	}
	return f
}

// reconcile runs the frame once on obj's name with steps returning err and a summary that
// presents the outcome, and returns the result and the object as the API server has it after.
func reconcile(t *testing.T, f steps.Frame[*sourcev1.GitRepository], key client.ObjectKey, run func(context.Context, *sourcev1.GitRepository) error,
	finalize func(context.Context, *sourcev1.GitRepository) error) (ctrl.Result, *sourcev1.GitRepository, bool, error) {
	t.Helper()
	obj := &sourcev1.GitRepository{}
	ran := false
	res, err := f.Reconcile(context.Background(), ctrl.Request{NamespacedName: key}, obj, steps.Hooks[*sourcev1.GitRepository]{
		Finalize: finalize,
		Steps: func(ctx context.Context) error {
			ran = true
			return run(ctx, obj)
		},
		Summarize: func(o steps.Outcome) { steps.Summary{SuccessMessage: "done"}.Apply(obj, o) },
	})
	after := &sourcev1.GitRepository{}
	if gerr := env.Client.Get(context.Background(), key, after); gerr != nil {
		after = nil
	}
	return res, after, ran, err
}

func returns(err error) func(context.Context, *sourcev1.GitRepository) error {
	return func(context.Context, *sourcev1.GitRepository) error { return err }
}

// TestFrameOutcomes: for each outcome, the frame's conditions, observedGeneration,
// finalizers and result, and a kstatus-compliant status.
func TestFrameOutcomes(t *testing.T) {
	transient := errors.New("etcd timeout")
	cases := []struct {
		name        string
		frame       func(*steps.Frame[*sourcev1.GitRepository])
		suspend     bool
		err         error
		wantResult  ctrl.Result
		wantErr     error
		wantRan     bool
		ready       metav1.ConditionStatus
		reason      string
		reconciling bool
		stalled     bool
		observed    int64
		finalizer   bool
	}{
		{name: "success adds the finalizer and observes the generation", wantRan: true,
			wantResult: ctrl.Result{RequeueAfter: interval}, ready: metav1.ConditionTrue, reason: meta.SucceededReason,
			observed: 1, finalizer: true},
		{name: "no finalizer for a kind that holds nothing", frame: func(f *steps.Frame[*sourcev1.GitRepository]) { f.NoFinalizer = true },
			wantRan: true, wantResult: ctrl.Result{RequeueAfter: interval}, ready: metav1.ConditionTrue, reason: meta.SucceededReason, observed: 1},
		{name: "suspended: steps do not run, generation observed", suspend: true, finalizer: true, observed: 1},
		{name: "suspended but checked: steps run", suspend: true, frame: func(f *steps.Frame[*sourcev1.GitRepository]) { f.RunWhileSuspended = true },
			wantRan: true, wantResult: ctrl.Result{RequeueAfter: interval}, ready: metav1.ConditionTrue, reason: meta.SucceededReason, observed: 1, finalizer: true},
		{name: "stalled: no requeue, generation observed", err: steps.Stalled(meta.InvalidSpecReason, errors.New("spec.url: bad")), wantRan: true,
			ready: metav1.ConditionFalse, reason: meta.InvalidSpecReason, stalled: true, observed: 1, finalizer: true},
		{name: "stalled with RequeueStalled comes back after the interval",
			frame: func(f *steps.Frame[*sourcev1.GitRepository]) {
				f.RequeueStalled = func(steps.Outcome) bool { return true }
			},
			err: steps.Stalled(meta.InvalidSpecReason, errors.New("spec.url: bad")), wantRan: true, wantResult: ctrl.Result{RequeueAfter: interval},
			ready: metav1.ConditionFalse, reason: meta.InvalidSpecReason, stalled: true, observed: 1, finalizer: true},
		{name: "waiting: requeue after the wait, generation not observed", err: steps.Waiting(meta.DependencyNotReadyReason, 11*time.Second, errors.New("not ready")),
			wantRan: true, wantResult: ctrl.Result{RequeueAfter: 11 * time.Second},
			ready: metav1.ConditionFalse, reason: meta.DependencyNotReadyReason, reconciling: true, observed: -1, finalizer: true},
		{name: "transient: the error for backoff, generation not observed", err: transient, wantErr: transient, wantRan: true,
			ready: metav1.ConditionFalse, reason: meta.FailedReason, reconciling: true, observed: -1, finalizer: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := newObject(t, func(o *sourcev1.GitRepository) { o.Spec.Suspend = tc.suspend })
			res, after, ran, err := reconcile(t, testFrame(tc.frame), client.ObjectKeyFromObject(obj), returns(tc.err), nil)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if res != tc.wantResult {
				t.Errorf("result %+v, want %+v", res, tc.wantResult)
			}
			if ran != tc.wantRan {
				t.Errorf("steps ran: %v, want %v", ran, tc.wantRan)
			}
			if tc.ready != "" {
				if err := testenv.CheckCondition(after, meta.ReadyCondition, tc.ready, tc.reason, ""); err != nil {
					t.Error(err)
				}
			}
			if got := conditions.IsTrue(after, meta.ReconcilingCondition); got != tc.reconciling {
				t.Errorf("Reconciling=True: %v, want %v", got, tc.reconciling)
			}
			if got := conditions.IsTrue(after, meta.StalledCondition); got != tc.stalled {
				t.Errorf("Stalled=True: %v, want %v", got, tc.stalled)
			}
			if after.Status.ObservedGeneration != tc.observed {
				t.Errorf("observedGeneration %d, want %d", after.Status.ObservedGeneration, tc.observed)
			}
			if got := controllerutil.ContainsFinalizer(after, meta.Finalizer); got != tc.finalizer {
				t.Errorf("finalizer present: %v, want %v", got, tc.finalizer)
			}
			if err := testenv.CheckKstatus(after); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestFrameNewGenerationShowsReconciling: a new generation is marked Reconciling (at that
// generation) before the steps run, and the reconcile request is echoed.
func TestFrameNewGenerationShowsReconciling(t *testing.T) {
	obj := newObject(t, nil)
	key := client.ObjectKeyFromObject(obj)
	if _, _, _, err := reconcile(t, testFrame(nil), key, returns(nil), nil); err != nil {
		t.Fatal(err)
	}
	// A new generation, and a reconcile request.
	if err := env.Client.Get(context.Background(), key, obj); err != nil {
		t.Fatal(err)
	}
	obj.Spec.Interval = metav1.Duration{Duration: 2 * interval}
	obj.Annotations = map[string]string{meta.ReconcileRequestAnnotation: "token-1"}
	if err := env.Client.Update(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	var during *sourcev1.GitRepository
	_, after, _, err := reconcile(t, testFrame(nil), key, func(ctx context.Context, _ *sourcev1.GitRepository) error {
		during = &sourcev1.GitRepository{}
		return env.Client.Get(ctx, key, during)
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := conditions.Get(during, meta.ReconcilingCondition); c == nil || c.Reason != meta.ProgressingReason || c.ObservedGeneration != 2 {
		t.Errorf("during the steps, Reconciling = %+v, want True %s at generation 2", c, meta.ProgressingReason)
	}
	if err := testenv.CheckKstatus(during); err != nil {
		t.Error(err)
	}
	if after.Status.ObservedGeneration != 2 || conditions.Has(after, meta.ReconcilingCondition) || after.Status.LastHandledReconcileAt != "token-1" {
		t.Errorf("after: observedGeneration %d, Reconciling %v, lastHandledReconcileAt %q; want 2, absent, token-1",
			after.Status.ObservedGeneration, conditions.Has(after, meta.ReconcilingCondition), after.Status.LastHandledReconcileAt)
	}
	if err := testenv.CheckKstatus(after); err != nil {
		t.Error(err)
	}
}

// TestFrameDeletion: a deleted object is finalized and its finalizer removed; a failure to
// finalize keeps the finalizer and returns the error.
func TestFrameDeletion(t *testing.T) {
	obj := newObject(t, nil)
	key := client.ObjectKeyFromObject(obj)
	if _, after, _, err := reconcile(t, testFrame(nil), key, returns(nil), nil); err != nil || !controllerutil.ContainsFinalizer(after, meta.Finalizer) {
		t.Fatalf("first reconcile: %v; finalizers %v", err, after.Finalizers)
	}
	if err := env.Client.Delete(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	failing := errors.New("storage busy")
	_, after, ran, err := reconcile(t, testFrame(nil), key, returns(nil), returns(failing))
	if !errors.Is(err, failing) || ran || after == nil || !controllerutil.ContainsFinalizer(after, meta.Finalizer) {
		t.Fatalf("failed finalize: error %v, steps ran %v, object %v; want the error, no steps, the finalizer kept", err, ran, after != nil)
	}
	finalized := false
	_, after, ran, err = reconcile(t, testFrame(nil), key, returns(nil), func(context.Context, *sourcev1.GitRepository) error {
		finalized = true
		return nil
	})
	if err != nil || ran || !finalized || after != nil {
		t.Fatalf("finalize: error %v, steps ran %v, finalized %v, object left %v; want the object gone", err, ran, finalized, after != nil)
	}
}

// TestFrameStatusInOneRequest: every version of the object a watcher sees is a consistent
// status; with conditions and the rest of status written in two requests, a watcher sees Ready
// of the new generation beside the old observedGeneration.
func TestFrameStatusInOneRequest(t *testing.T) {
	obj := newObject(t, nil)
	key := client.ObjectKeyFromObject(obj)
	wc, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	w, err := wc.Watch(context.Background(), &sourcev1.GitRepositoryList{}, client.InNamespace(key.Namespace))
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu       sync.Mutex
		versions []*sourcev1.GitRepository
		done     = make(chan struct{})
	)
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			if o, ok := ev.Object.(*sourcev1.GitRepository); ok && ev.Type == watch.Modified {
				mu.Lock()
				versions = append(versions, o)
				mu.Unlock()
			}
		}
	}()
	for i := range 3 {
		if _, _, _, err := reconcile(t, testFrame(nil), key, returns(nil), nil); err != nil {
			t.Fatal(err)
		}
		if err := env.Client.Get(context.Background(), key, obj); err != nil {
			t.Fatal(err)
		}
		obj.Spec.Interval = metav1.Duration{Duration: interval + time.Duration(i+1)*time.Second}
		if err := env.Client.Update(context.Background(), obj); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, _, err := reconcile(t, testFrame(nil), key, returns(nil), nil); err != nil {
		t.Fatal(err)
	}
	final := &sourcev1.GitRepository{}
	testenv.Eventually(t, time.Minute, func() error {
		if err := env.Client.Get(context.Background(), key, final); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if n := len(versions); n == 0 || versions[n-1].ResourceVersion != final.ResourceVersion {
			return fmt.Errorf("the watch has not yet seen resourceVersion %s", final.ResourceVersion)
		}
		return nil
	})
	w.Stop()
	<-done
	for _, v := range versions {
		if err := testenv.CheckKstatus(v); err != nil {
			t.Errorf("resourceVersion %s: %v", v.ResourceVersion, err)
		}
	}
}

// TestFrameKeepsAnotherWritersCondition: a condition another controller writes while the
// steps run survives the frame's status write (a conflict, re-read and merge), and the
// frame's own conditions are written.
func TestFrameKeepsAnotherWritersCondition(t *testing.T) {
	obj := newObject(t, nil)
	key := client.ObjectKeyFromObject(obj)
	_, after, _, err := reconcile(t, testFrame(nil), key, func(ctx context.Context, _ *sourcev1.GitRepository) error {
		other := &sourcev1.GitRepository{}
		if err := env.Client.Get(ctx, key, other); err != nil {
			return err
		}
		conditions.MarkTrue(other, "Audited", "Checked", "by another controller")
		return env.Client.Status().Update(ctx, other)
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := testenv.CheckCondition(after, "Audited", metav1.ConditionTrue, "Checked", ""); err != nil {
		t.Error(err)
	}
	if err := testenv.CheckCondition(after, meta.ReadyCondition, metav1.ConditionTrue, meta.SucceededReason, "done"); err != nil {
		t.Error(err)
	}
	if after.Status.ObservedGeneration != 1 {
		t.Errorf("observedGeneration %d, want 1", after.Status.ObservedGeneration)
	}
}

// staleReader serves its first Get from a snapshot, as a cache still behind the controller's
// own last write does, and later ones from the API server.
type staleReader struct {
	client.Reader
	snapshot *sourcev1.GitRepository
	served   bool
}

func (r *staleReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if !r.served {
		r.served = true
		r.snapshot.DeepCopyInto(obj.(*sourcev1.GitRepository))
		return nil
	}
	return r.Reader.Get(ctx, key, obj, opts...)
}

// TestFrameStaleReadOwnConditionsWin: a reconcile that started from a stale read (its
// controller's previous write not yet in the cache) and sets an owned condition back to the
// value that read shows writes it, not only the fields it changed: the previous write's
// condition does not outlive it.
func TestFrameStaleReadOwnConditionsWin(t *testing.T) {
	obj := newObject(t, nil)
	key := client.ObjectKeyFromObject(obj)
	if _, _, _, err := reconcile(t, testFrame(nil), key, returns(nil), nil); err != nil {
		t.Fatal(err)
	}
	stale := &sourcev1.GitRepository{}
	if err := env.Client.Get(context.Background(), key, stale); err != nil {
		t.Fatal(err)
	}
	// The previous run's last write, which the stale read does not show.
	prev := stale.DeepCopy()
	conditions.MarkFalse(prev, meta.ReadyCondition, "Canceled", "the previous run's outcome")
	if err := env.Client.Status().Update(context.Background(), prev); err != nil {
		t.Fatal(err)
	}
	f := testFrame(func(f *steps.Frame[*sourcev1.GitRepository]) {
		f.Reader = &staleReader{Reader: env.Client, snapshot: stale}
	})
	_, after, _, err := reconcile(t, f, key, func(_ context.Context, o *sourcev1.GitRepository) error {
		changed := "changed by this run"
		o.Status.ObservedIgnore = &changed
		return nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if after.Status.ObservedIgnore == nil || *after.Status.ObservedIgnore != "changed by this run" {
		t.Errorf("status.observedIgnore %v, want this run's value", after.Status.ObservedIgnore)
	}
	if err := testenv.CheckCondition(after, meta.ReadyCondition, metav1.ConditionTrue, meta.SucceededReason, "done"); err != nil {
		t.Error(err)
	}
}
