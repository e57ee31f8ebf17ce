package gate

import (
	"strings"
	"testing"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestWindowsEvaluate(t *testing.T) {
	nightly := meta.SyncWindow{Kind: meta.SyncWindowAllow, Schedule: "0 2 * * *", Duration: metav1.Duration{Duration: 2 * time.Hour}}
	friday := meta.SyncWindow{Kind: meta.SyncWindowDeny, Schedule: "0 0 * * 5", Duration: metav1.Duration{Duration: 24 * time.Hour}}
	berlin := meta.SyncWindow{Kind: meta.SyncWindowAllow, Schedule: "0 9 * * *", Duration: metav1.Duration{Duration: time.Hour}, TimeZone: "Europe/Berlin"}
	for _, tc := range []struct {
		name    string
		windows []meta.SyncWindow
		now     string
		allowed bool
		until   string
		why     string
	}{
		{name: "no windows", now: "2026-12-06T13:00:00Z", allowed: true},
		{name: "before the allow window", windows: []meta.SyncWindow{nightly}, now: "2026-12-06T13:00:00Z", until: "2026-12-07T02:00:00Z", why: "outside every allow window"},
		{name: "at its opening", windows: []meta.SyncWindow{nightly}, now: "2026-12-07T02:00:00Z", allowed: true},
		{name: "inside it", windows: []meta.SyncWindow{nightly}, now: "2026-12-07T03:59:59Z", allowed: true},
		{name: "at its end", windows: []meta.SyncWindow{nightly}, now: "2026-12-07T04:00:00Z", until: "2026-12-08T02:00:00Z"},
		// 2026-12-11 is a Friday: its nightly window is denied, the next is Saturday's.
		{name: "deny over allow", windows: []meta.SyncWindow{nightly, friday}, now: "2026-12-11T02:30:00Z", until: "2026-12-12T02:00:00Z", why: "inside the deny window spec.syncWindows[1]"},
		{name: "deny only, ends", windows: []meta.SyncWindow{friday}, now: "2026-12-11T10:00:00Z", until: "2026-12-12T00:00:00Z"},
		{name: "deny only, outside", windows: []meta.SyncWindow{friday}, now: "2026-12-10T10:00:00Z", allowed: true},
		{name: "time zone", windows: []meta.SyncWindow{berlin}, now: "2026-12-07T07:00:00Z", until: "2026-12-07T08:00:00Z"},
		{name: "time zone open", windows: []meta.SyncWindow{berlin}, now: "2026-12-07T08:30:00Z", allowed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws, err := ParseWindows(tc.windows)
			if err != nil {
				t.Fatal(err)
			}
			d := ws.Evaluate(at(tc.now))
			if d.Allowed != tc.allowed {
				t.Fatalf("allowed = %v, want %v", d.Allowed, tc.allowed)
			}
			if tc.until != "" && !d.Until.Equal(at(tc.until)) {
				t.Errorf("until = %s, want %s", d.Until, tc.until)
			}
			if tc.why != "" && d.Why != tc.why {
				t.Errorf("why = %q, want %q", d.Why, tc.why)
			}
		})
	}
}

func TestParseWindowsNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		w    meta.SyncWindow
		want string
	}{
		{meta.SyncWindow{Kind: "allow", Schedule: "not cron", Duration: metav1.Duration{Duration: time.Hour}}, `spec.syncWindows[0].schedule "not cron"`},
		{meta.SyncWindow{Kind: "allow", Schedule: "@daily", Duration: metav1.Duration{Duration: time.Hour}, TimeZone: "Mars/Olympus"}, `spec.syncWindows[0].timeZone "Mars/Olympus"`},
		{meta.SyncWindow{Kind: "allow", Schedule: "@daily"}, "spec.syncWindows[0].duration must be positive"},
	} {
		_, err := ParseWindows([]meta.SyncWindow{tc.w})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want it to name %q", err, tc.want)
		}
	}
}

func TestJudge(t *testing.T) {
	const rev = "main@sha1:2222"
	for _, tc := range []struct {
		value, handled string
		want           Approval
	}{
		{"", "", NotApproved},
		{rev, "", Approved},
		{rev, rev, NotApproved},
		{rev + "#2", rev, Approved},
		{"main@sha1:1111", "", Stale},
	} {
		if got := Judge(tc.value, tc.handled, rev); got != tc.want {
			t.Errorf("Judge(%q, %q) = %v, want %v", tc.value, tc.handled, got, tc.want)
		}
	}
	p := &meta.Plan{Revision: rev}
	Add(p, "a", meta.PlanCreate)
	Add(p, "b", meta.PlanCreate)
	Add(p, "c", meta.PlanChange)
	Add(p, "d", meta.PlanDelete)
	if got, want := Summary(p), "revision main@sha1:2222: 2 to create, 1 to change, 1 to delete"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
}

// TestHoldRequeue: a window hold comes back at the window's opening when that is sooner than
// the interval, never in less than a second; an approval hold keeps the interval.
func TestHoldRequeue(t *testing.T) {
	now := at("2026-12-07T01:30:00Z")
	ws, err := ParseWindows([]meta.SyncWindow{{Kind: meta.SyncWindowAllow, Schedule: "0 2 * * *", Duration: metav1.Duration{Duration: time.Hour}}})
	if err != nil {
		t.Fatal(err)
	}
	h := ForWindow("main@sha1:1", ws.Evaluate(now), now)
	if got := h.Requeue(ctrl.Result{RequeueAfter: time.Hour}).RequeueAfter; got != 30*time.Minute {
		t.Errorf("requeue after %s, want 30m (the window opens at 02:00)", got)
	}
	if got := h.Requeue(ctrl.Result{RequeueAfter: 10 * time.Minute}).RequeueAfter; got != 10*time.Minute {
		t.Errorf("requeue after %s, want the 10m interval", got)
	}
	h.Now = h.Until
	if got := h.Requeue(ctrl.Result{RequeueAfter: time.Hour}).RequeueAfter; got != time.Second {
		t.Errorf("requeue after %s at the opening, want 1s", got)
	}
	approval := ForApproval(&meta.Plan{Revision: "r", Create: 1}, "", "", now)
	if got := approval.Requeue(ctrl.Result{RequeueAfter: time.Hour}).RequeueAfter; got != time.Hour {
		t.Errorf("approval hold requeues after %s, want the interval", got)
	}
	var none *Hold
	if got := none.Requeue(ctrl.Result{RequeueAfter: time.Hour}).RequeueAfter; got != time.Hour {
		t.Errorf("no hold requeues after %s", got)
	}
}

// TestHoldApply: an approval makes Ready False with the plan; a window leaves a Ready object
// Ready, and makes one that never became Ready False with the wait; neither is in progress.
func TestHoldApply(t *testing.T) {
	find := func(o *kustomizev1.Kustomization, typ string) *metav1.Condition {
		return apimeta.FindStatusCondition(o.Status.Conditions, typ)
	}
	with := func(conds ...metav1.Condition) *kustomizev1.Kustomization {
		o := &kustomizev1.Kustomization{}
		o.Status.Conditions = conds
		return o
	}
	ready := metav1.Condition{Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: "ReconciliationSucceeded", Message: "applied revision r1"}
	reconciling := metav1.Condition{Type: meta.ReconcilingCondition, Status: metav1.ConditionTrue, Reason: meta.ProgressingReason}
	now := at("2026-12-06T13:00:00Z")
	d := Decision{Until: at("2026-12-07T02:00:00Z"), Why: "outside every allow window"}

	o := with(ready, reconciling)
	ForApproval(&meta.Plan{Revision: "r2", Create: 1}, "", "", now).Apply(o)
	if c := find(o, meta.ReadyCondition); c.Status != metav1.ConditionFalse || c.Reason != meta.ApprovalRequiredReason || c.Message != "revision r2: 1 to create, 0 to change, 0 to delete" {
		t.Errorf("approval: Ready %+v", c)
	}
	if find(o, meta.ApprovalRequiredCondition) == nil || find(o, meta.ReconcilingCondition) != nil {
		t.Errorf("approval: conditions %+v", o.Status.Conditions)
	}

	o = with(ready, reconciling)
	ForWindow("r2", d, now).Apply(o)
	if c := find(o, meta.ReadyCondition); c.Status != metav1.ConditionTrue || c.Message != "applied revision r1" {
		t.Errorf("window over a Ready object: Ready %+v", c)
	}
	if c := find(o, meta.SyncWindowClosedCondition); c == nil || c.Message != "revision r2 waits until 2026-12-07T02:00Z (outside every allow window)" {
		t.Errorf("window: SyncWindowClosed %+v", c)
	}
	if find(o, meta.ReconcilingCondition) != nil {
		t.Errorf("window: still Reconciling")
	}

	o = with()
	ForWindow("r1", d, now).Apply(o)
	if c := find(o, meta.ReadyCondition); c == nil || c.Status != metav1.ConditionFalse || c.Reason != meta.OutsideSyncWindowReason {
		t.Errorf("window before any apply: Ready %+v", c)
	}
}
