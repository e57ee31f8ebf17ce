package faults

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/cli/internal/local"
	"weir.dev/pkg/testenv"
)

// faultWindow is how long the fraction tests' API server fault lasts: long enough for several
// reconciles to fail, short enough that the package runs in minutes.
const faultWindow = 20 * time.Second

// converge bounds how long the system may take to converge after a window ends; controllers
// back off exponentially while requests fail.
const converge = 3 * time.Minute

// TestAPIServerAnswers429ForAWhile throttles every request of kustomize- and helm-controller
// but their Lease renewals with 429 and Retry-After while a commit is pushed, as API Priority
// and Fairness does when their flow's priority level is saturated (leader election has a level
// of its own). source-controller's requests pass, so the appliers see the new revision and fail
// on it, which users see as warnings: the events reach notification-controller over HTTP, not
// through the API server. The window outlasts client-go's own retries of a 429 (10 × Retry-After)
// so that a Helm upgrade fails inside it. The other tests fail a fraction of every controller's
// requests, Leases included.
func TestAPIServerAnswers429ForAWhile(t *testing.T) {
	faultWindowConverges(t, "throttled", testenv.Fault{Mode: testenv.TooManyRequests, RetryAfter: 1, For: 30 * time.Second,
		Clients: []string{"kustomize-controller", "helm-controller"}, Spare: testenv.SpareLeases})
}

// TestAPIServerFailsHalfTheRequestsForAWhile answers half the controllers' requests with 500
// while a commit is pushed.
func TestAPIServerFailsHalfTheRequestsForAWhile(t *testing.T) {
	faultWindowConverges(t, "erring", testenv.Fault{Mode: testenv.InternalError, Fraction: 0.5, For: faultWindow})
}

// TestAPIServerRefusesHelmReleaseRecordsForAWhile answers 500 to every Secret helm-controller
// creates, as a failing admission webhook on Secrets does, while a commit changes the Git chart:
// Helm cannot store the new release record, so the upgrade fails before anything changed. That
// is no failed release to count or remediate: the HelmRelease must retry, not stall, and upgrade
// once the window ends.
func TestAPIServerRefusesHelmReleaseRecordsForAWhile(t *testing.T) {
	faultWindowConverges(t, "refusing", testenv.Fault{Mode: testenv.InternalError, For: faultWindow,
		Clients: []string{"helm-controller"}, Spare: func(r *http.Request) bool {
			return r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/secrets")
		}})
}

// TestAPIServerStallsSomeRequestsForAWhile leaves half of the server-side dry runs of the
// objects a commit pushed in the window changes unanswered until the client gives up or the
// window ends. Only dry runs: a stall of any request (a watch, a Lease, a status patch) is one
// the controllers retry without a word, and on a loaded machine the few requests of the window
// were all of those (9 stalled, none shown), which proved nothing about what users see.
func TestAPIServerStallsSomeRequestsForAWhile(t *testing.T) {
	faultWindowConverges(t, "stalling", testenv.Fault{Mode: testenv.Hang, Fraction: 0.5, For: faultWindow,
		Spare: func(r *http.Request) bool { return r.URL.Query().Get("dryRun") == "" }})
}

// kept are the ConfigMaps earlier fault tests left to be kept: none may be pruned later.
var kept []string

// faultWindowConverges opens the fault f at the API server (through the proxy) and, inside the
// window, pushes a commit that changes an object of each demo Kustomization and of the Git
// chart, adds one object and removes another. After the window the system must converge on its
// own: every Kustomization and the HelmRelease at the new revision, the changes in the cluster,
// nothing pruned that is still wanted, every controller the same process, and the fault visible
// in a condition, an event or a notification, with no secret in any of them.
func faultWindowConverges(t *testing.T, name string, f testenv.Fault) {
	ctx := context.Background()
	keep, drop, added := "fault-"+name+"-keep", "fault-"+name+"-drop", "fault-"+name+"-new"
	labels := map[string]string{"faults.weir.dev/test": name}

	// Before the window: the objects the commit changes and removes are applied.
	writeFile(t, "faults/"+keep+".yaml", configMapYAML(keep, "before", labels))
	writeFile(t, "faults/"+drop+".yaml", configMapYAML(drop, "before", labels))
	writeFaultsKustomization(t)
	baseline := pushAndReconcile(t, "Add the objects of the "+name+" test")
	eventually(t, time.Minute, "the baseline applied", func() error { return appliedErr(ctx, faultsKustomization, baseline) })
	kept = append(kept, keep)

	pids := controllerPIDs()
	if len(pids) < 4 {
		t.Fatalf("only %d controllers run: %v", len(pids), pids)
	}
	injected := proxy.Injected()[f.Mode]
	hr := &helmv1.HelmRelease{}
	if err := env.Client.Get(ctx, demoKey(gitHelmRelease), hr); err != nil {
		t.Fatal(err)
	}
	chartBefore := latestChart(hr)

	// The window: watch what users see while it lasts.
	notified := len(env.Demo.Notifications())
	windowStart := time.Now()
	proxy.Inject(f)
	windowEnd := time.Now().Add(f.For)
	watchCtx, stopWatch := context.WithCancel(ctx)
	seen := watchMessages(watchCtx)
	defer stopWatch()

	message := fmt.Sprintf("Hello during the %s window", name)
	writeFile(t, "app/configmap.yaml", configMapYAML("podinfo-config", message, nil))
	writeFile(t, "faults/"+keep+".yaml", configMapYAML(keep, "after", labels))
	removeFile(t, "faults/"+drop+".yaml")
	writeFile(t, "faults/"+added+".yaml", configMapYAML(added, "after", labels))
	writeFaultsKustomization(t)
	writeFile(t, "charts/hello/values.yaml", fmt.Sprintf("message: %q\n", message))
	revision := pushAndReconcile(t, "Change every demo object during the "+name+" window")

	time.Sleep(time.Until(windowEnd))
	n := proxy.Injected()[f.Mode] - injected
	t.Logf("%s window of %s over: %d requests failed with %s", name, f.For, n, f.Mode)
	if n == 0 {
		t.Fatalf("the proxy injected no %s fault: the test proved nothing", f.Mode)
	}

	// After the window, the system converges by itself: nobody asks for a reconcile.
	ended := time.Now()
	eventually(t, converge, "convergence on "+revision, func() error {
		var errs []error
		for _, ks := range []string{"app", "app-staging", faultsKustomization} {
			errs = append(errs, appliedErr(ctx, ks, revision))
		}
		errs = append(errs, readyErr(ctx, hr, gitHelmRelease))
		for cm, want := range map[string]string{"podinfo-config": message, keep: "after", added: "after", gitHelmRelease + "-config": message} {
			if got, err := configMapMessage(ctx, cm); err != nil || got != want {
				errs = append(errs, fmt.Errorf("ConfigMap %s says %q (%v), want %q", cm, got, err, want))
			}
		}
		if _, err := configMapMessage(ctx, drop); !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("ConfigMap %s not pruned (%v)", drop, err))
		}
		return errors.Join(errs...)
	})
	t.Logf("converged %s after the window ended", time.Since(ended).Round(100*time.Millisecond))
	stopWatch()

	if got := latestChart(hr); got == chartBefore {
		t.Errorf("HelmRelease %s still runs chart %s: no upgrade", gitHelmRelease, got)
	}
	// Nothing still wanted was pruned, nothing lost from an inventory.
	for _, ks := range []string{"app", "app-staging", faultsKustomization} {
		checkInventory(t, ks)
	}
	for _, cm := range kept {
		if _, err := configMapMessage(ctx, cm); err != nil {
			t.Errorf("ConfigMap %s of an earlier test: %v", cm, err)
		}
	}
	checkSameProcesses(t, pids)
	checkFaultVisible(t, f.Mode, seen(), windowStart, notified)
}

// watchMessages polls, until ctx ends, the messages of the demo's Weir objects' conditions, and
// returns a function that returns every distinct one seen.
func watchMessages(ctx context.Context) func() []string {
	var mu sync.Mutex
	set := map[string]bool{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		lists := []interface {
			client.ObjectList
		}{&kustomizev1.KustomizationList{}, &helmv1.HelmReleaseList{}, &sourcev1.GitRepositoryList{}, &sourcev1.HelmChartList{}}
		for ctx.Err() == nil {
			for _, l := range lists {
				if err := env.Client.List(ctx, l, client.InNamespace(local.DemoNamespace)); err != nil {
					continue
				}
				mu.Lock()
				for _, m := range conditionMessages(l) {
					set[m] = true
				}
				mu.Unlock()
			}
			select {
			case <-ctx.Done():
			case <-time.After(250 * time.Millisecond):
			}
		}
	}()
	return func() []string {
		<-done
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for m := range set {
			out = append(out, m)
		}
		return out
	}
}

func conditionMessages(l client.ObjectList) []string {
	var out []string
	add := func(o conditioned) {
		for _, c := range o.GetConditions() {
			out = append(out, fmt.Sprintf("%s %s %s: %s", o.GetName(), c.Type, c.Reason, c.Message))
		}
	}
	switch l := l.(type) {
	case *kustomizev1.KustomizationList:
		for i := range l.Items {
			add(&l.Items[i])
		}
	case *helmv1.HelmReleaseList:
		for i := range l.Items {
			add(&l.Items[i])
		}
	case *sourcev1.GitRepositoryList:
		for i := range l.Items {
			add(&l.Items[i])
		}
	case *sourcev1.HelmChartList:
		for i := range l.Items {
			add(&l.Items[i])
		}
	}
	return out
}

// checkFaultVisible fails t unless a condition message seen during the window, or a Kubernetes
// Event or a notification of the demo since the window started (at since, after the first
// notified notifications), tells of the fault; and fails it if any condition, event or
// notification holds a secret: a token of the proxy's kubeconfigs or the Receiver's token.
func checkFaultVisible(t *testing.T, mode testenv.FaultMode, conditions []string, since time.Time, notified int) {
	t.Helper()
	ctx := context.Background()
	texts := append([]string(nil), conditions...)
	var earlier []string
	events := &corev1.EventList{}
	if err := env.Client.List(ctx, events, client.InNamespace(local.DemoNamespace)); err != nil {
		t.Fatal(err)
	}
	for _, e := range events.Items {
		text := fmt.Sprintf("event %s/%s %s: %s", e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Reason, e.Message)
		if eventTime(e).Before(since.Add(-time.Second)) {
			earlier = append(earlier, text)
		} else {
			texts = append(texts, text)
		}
	}
	for i, n := range env.Demo.Notifications() {
		if i < notified {
			earlier = append(earlier, "notification "+n.String())
		} else {
			texts = append(texts, "notification "+n.String())
		}
	}
	// The proxy's own message, or the one client-go makes up from the status code where it
	// does not pass the server's on (discovery, a client that gave up on a stalled request).
	signs := []string{testenv.FaultMessage}
	switch mode {
	case testenv.TooManyRequests:
		signs = append(signs, "the server has received too many requests")
	case testenv.InternalError:
		signs = append(signs, "an error on the server")
	case testenv.Hang:
		signs = append(signs, "context deadline exceeded", "Client.Timeout", "unable to return a response in the time allotted")
	}
	var visible []string
	for _, s := range texts {
		for _, sign := range signs {
			if strings.Contains(s, sign) {
				visible = append(visible, s)
				break
			}
		}
	}
	if len(visible) == 0 {
		t.Errorf("the %s fault showed in no condition, event or notification; %d texts seen:\n%s", mode, len(texts), strings.Join(texts, "\n"))
	} else {
		t.Logf("the fault showed in %d texts, e.g. %s", len(visible), visible[0])
	}

	secrets := proxy.Tokens()
	receiver := &corev1.Secret{}
	if err := env.Client.Get(ctx, demoKey("receiver-token"), receiver); err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, string(receiver.Data["token"]))
	for _, s := range append(texts, earlier...) {
		for i, secret := range secrets {
			if secret != "" && strings.Contains(s, secret) {
				// Never print the secret itself.
				t.Errorf("secret #%d leaked into: %s", i, strings.ReplaceAll(s, secret, "<redacted>"))
			}
		}
	}
}

// latestChart is the chart version of hr's latest release, or "" before the first.
func latestChart(hr *helmv1.HelmRelease) string {
	if s := hr.Status.History.Latest(); s != nil {
		return s.ChartVersion
	}
	return ""
}

// eventTime is when e last happened, whichever API recorded it.
func eventTime(e corev1.Event) time.Time {
	t := e.LastTimestamp.Time
	if e.EventTime.After(t) {
		t = e.EventTime.Time
	}
	if e.Series != nil && e.Series.LastObservedTime.After(t) {
		t = e.Series.LastObservedTime.Time
	}
	return t
}
