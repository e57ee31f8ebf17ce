package controller

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fluxcd/pkg/runtime/events"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/pkg/configwatch"
	"weir.dev/pkg/identity"
	"weir.dev/pkg/testenv"
)

// shardLabel on a Kustomization hands it from the suite's controller to one startShard starts.
const shardLabel = "sharding.weir.dev/key"

var unsharded = func() labels.Requirement {
	r, err := labels.NewRequirement(shardLabel, selection.DoesNotExist, nil)
	if err != nil {
		panic(err)
	}
	return *r
}()

// requestLog records the requests a client sent to the API server.
type requestLog struct {
	mu   sync.Mutex
	reqs []loggedRequest
}

type loggedRequest struct{ method, path, query string }

func (l *requestLog) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		l.mu.Lock()
		l.reqs = append(l.reqs, loggedRequest{r.Method, r.URL.Path, r.URL.RawQuery})
		l.mu.Unlock()
		return rt.RoundTrip(r)
	})
}

func (l *requestLog) all() []loggedRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]loggedRequest(nil), l.reqs...)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// startShard starts a kustomize-controller of its own, as a new process would: a new manager
// and reconciler, with nothing in memory, reconciling the Kustomizations labelled shard. Every
// request it sends is recorded in log when log is set. The returned function stops it.
func startShard(t *testing.T, shard string, log *requestLog) (*KustomizationReconciler, func()) {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	if log != nil {
		cfg.Wrap(log.wrap)
	}
	byObject := configwatch.CacheOptions()
	byObject[&kustomizev1.Kustomization{}] = cache.ByObject{Label: labels.SelectorFromSet(labels.Set{shardLabel: shard})}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: env.Scheme, Metrics: metricsserver.Options{BindAddress: "0"},
		Cache:      cache.Options{ByObject: byObject},
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := events.NewRecorder(mgr.GetLogger(), "", "kustomize-controller", events.WithManager(mgr))
	if err != nil {
		t.Fatal(err)
	}
	direct, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	r := &KustomizationReconciler{
		Client: mgr.GetClient(), EventRecorder: rec, ControllerName: "kustomize-controller", SecretReader: direct,
		OwnerReader:       mgr.GetAPIReader(),
		Identities:        &identity.Resolver{Config: cfg, Scheme: env.Scheme, Mapper: mgr.GetRESTMapper(), Reader: mgr.GetAPIReader()},
		Fetcher:           reconciler.Fetcher,
		DependencyRequeue: time.Second,
		Clock:             testClock,
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := r.SetupWithManager(ctx, mgr, 4); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			t.Error(err)
		}
	}()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return r, sync.OnceFunc(stop)
}

// historyCount is how many runs status.history's newest entry of ks counts, 0 with none.
func historyCount(t *testing.T, ks *kustomizev1.Kustomization) int64 {
	t.Helper()
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(ks), ks); err != nil {
		t.Fatal(err)
	}
	if len(ks.Status.History) == 0 {
		return 0
	}
	return ks.Status.History[0].TotalReconciliations
}

// TestRestartSkipsUnchanged: a new kustomize-controller with nothing in memory, started on
// Kustomizations another one applied, writes nothing to their objects (no apply, no dry run) and
// sends at most two requests for each whose objects are all of one kind and namespace, while
// whatever changed while no controller ran is applied as before: an object edited or deleted in
// the cluster, a new spec, a new revision of its files, new substituteFrom variables, a
// reconcile request. Afterwards drift is still corrected at the interval.
func TestRestartSkipsUnchanged(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	shard := ns
	files := map[string]string{
		"quiet/kustomization.yaml": "resources: [a.yaml, b.yaml, c.yaml]\n",
		"quiet/a.yaml":             configMap("quiet-a", "1"),
		"quiet/b.yaml":             configMap("quiet-b", "1"),
		"quiet/c.yaml":             configMap("quiet-c", "1"),
		"mixed/kustomization.yaml": "resources: [cm.yaml, sa.yaml]\n",
		"mixed/cm.yaml":            configMap("mixed-cm", "1"),
		"mixed/sa.yaml":            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: mixed-sa\n",
		"tick/cm.yaml":             configMap("tick", "1"),
		"edited/cm.yaml":           configMap("edited", "1"),
		"deleted/cm.yaml":          configMap("deleted", "1"),
		"spec/cm.yaml":             configMap("spec", "1"),
		"revision/cm.yaml":         configMap("revision", "1"),
		"vars/cm.yaml":             configMap("vars", "${VALUE}"),
		"request/cm.yaml":          configMap("request", "1"),
	}
	vars := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "vars-input"}, Data: map[string]string{"VALUE": "v1"}}
	if err := env.Client.Create(ctx, vars); err != nil {
		t.Fatal(err)
	}
	publish(t, ns, "repo", "main@sha1:1", files)
	sharded := func(more func(*kustomizev1.Kustomization)) func(*kustomizev1.Kustomization) {
		return func(k *kustomizev1.Kustomization) {
			k.Labels = map[string]string{shardLabel: shard}
			k.Spec.TargetNamespace = ns
			if more != nil {
				more(k)
			}
		}
	}
	ks := map[string]*kustomizev1.Kustomization{}
	for _, name := range []string{"quiet", "mixed", "edited", "deleted", "spec", "revision", "request"} {
		ks[name] = createKustomization(t, ns, name, "./"+name, sharded(nil))
	}
	// tick comes round every two seconds: its drift checks are due at every run.
	ks["tick"] = createKustomization(t, ns, "tick", "./tick", sharded(func(k *kustomizev1.Kustomization) {
		k.Spec.Interval = metav1.Duration{Duration: 2 * time.Second}
	}))
	ks["vars"] = createKustomization(t, ns, "vars", "./vars", sharded(func(k *kustomizev1.Kustomization) {
		k.Spec.PostBuild = &kustomizev1.PostBuild{SubstituteFrom: []kustomizev1.SubstituteReference{{Kind: "ConfigMap", Name: "vars-input"}}}
	}))

	// The first controller applies them all, then stops.
	_, stopFirst := startShard(t, shard, nil)
	for _, k := range ks {
		waitApplied(t, k, "main@sha1:1")
		if k.Status.Applied == nil {
			t.Fatalf("%s: no status.applied after a full success", k.Name)
		}
	}
	stopFirst()

	// A new controller, with nothing in memory, finds nothing changed: it writes nothing, and
	// sends at most two requests for each Kustomization whose objects are of one kind in one
	// namespace (the LIST of their metadata and the status patch).
	all := map[string][]string{
		"quiet": {"configmaps/quiet-a", "configmaps/quiet-b", "configmaps/quiet-c"},
		"mixed": {"configmaps/mixed-cm", "serviceaccounts/mixed-sa"},
	}
	for _, name := range []string{"tick", "edited", "deleted", "spec", "revision", "vars", "request"} {
		all[name] = []string{"configmaps/" + name}
	}
	versions := map[string]string{}
	runs := map[string]int64{}
	for name, objects := range all {
		for _, o := range objects {
			versions[o] = resourceVersion(t, ns, o)
		}
		runs[name] = historyCount(t, ks[name])
	}
	var quietLog requestLog
	second, stopSecond := startShard(t, shard, &quietLog)
	for name, k := range ks {
		testenv.Eventually(t, timeout, func() error {
			if n := historyCount(t, k); n <= runs[name] {
				return fmt.Errorf("%s: not reconciled since the restart (history counts %d runs)", name, n)
			}
			return nil
		})
	}
	stopSecond()
	reqs := quietLog.all()
	for name, objects := range all {
		for _, o := range objects {
			if n := countRequests(reqs, func(r loggedRequest) bool {
				return r.method != http.MethodGet && strings.HasSuffix(r.path, "/"+o)
			}); n > 0 {
				t.Errorf("%s: %d writes or dry runs of %s after a restart with nothing changed\n%s", name, n, o, describeRequests(reqs))
			}
			if v := resourceVersion(t, ns, o); v != versions[o] {
				t.Errorf("%s: %s has resourceVersion %s, was %s before the restart", name, o, v, versions[o])
			}
		}
		if name == "mixed" || name == "vars" || name == "tick" {
			continue // two kinds; substituteFrom's read; a run every two seconds
		}
		if n := countRequests(reqs, concerns(ns, name, objects)); n > 2 {
			t.Errorf("%s: %d requests after a restart with nothing changed, want at most 2\n%s", name, n, describeRequests(reqs))
		}
	}
	if skips := second.skips.Load(); skips < int64(len(ks)) {
		t.Errorf("%d runs skipped the apply after a restart with nothing changed, want %d", skips, len(ks))
	}

	// While no controller runs: one object is edited, one deleted, a spec changes, a file
	// changes (a new revision, the same for every other Kustomization), variables change and a
	// reconcile is requested.
	var cm corev1.ConfigMap
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "edited"}, &cm); err != nil {
		t.Fatal(err)
	}
	cm.Data["value"] = "by hand"
	if err := env.Client.Update(ctx, &cm, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Delete(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "deleted"}}); err != nil {
		t.Fatal(err)
	}
	updateKustomization(t, ks["spec"], func(k *kustomizev1.Kustomization) {
		k.Spec.CommonMetadata = &meta.CommonMetadata{Labels: map[string]string{"tier": "new"}}
	})
	files["revision/cm.yaml"] = configMap("revision", "2")
	publish(t, ns, "repo", "main@sha1:2", files)
	vars.Data["VALUE"] = "v2"
	if err := env.Client.Update(ctx, vars); err != nil {
		t.Fatal(err)
	}
	updateKustomization(t, ks["request"], func(k *kustomizev1.Kustomization) {
		k.Annotations = map[string]string{meta.ReconcileRequestAnnotation: "after-restart"}
	})

	unchanged := []string{"quiet", "mixed", "tick"}
	objectsOf := map[string][]string{
		"quiet": {"configmaps/quiet-a", "configmaps/quiet-b", "configmaps/quiet-c"},
		"mixed": {"configmaps/mixed-cm", "serviceaccounts/mixed-sa"},
		"tick":  {"configmaps/tick"},
	}
	versionsBefore := map[string]string{}
	for _, name := range unchanged {
		for _, o := range objectsOf[name] {
			versionsBefore[o] = resourceVersion(t, ns, o)
		}
	}
	// Another new controller applies what changed, and only that.
	var log requestLog
	third, _ := startShard(t, shard, &log)
	// Every Kustomization is at the revision published while no controller ran: each has run.
	for _, k := range ks {
		waitApplied(t, k, "main@sha1:2")
	}
	waitConfigMap(t, ns, "edited", "1")
	waitConfigMap(t, ns, "deleted", "1")
	waitConfigMap(t, ns, "revision", "2")
	waitConfigMap(t, ns, "vars", "v2")
	testenv.Eventually(t, timeout, func() error {
		var cm corev1.ConfigMap
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "spec"}, &cm); err != nil {
			return err
		}
		if cm.Labels["tier"] != "new" {
			return fmt.Errorf("ConfigMap spec has labels %v, want tier=new", cm.Labels)
		}
		return nil
	})
	testenv.Eventually(t, timeout, func() error {
		k := ks["request"]
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(k), k); err != nil {
			return err
		}
		if k.Status.LastHandledReconcileAt != "after-restart" {
			return fmt.Errorf("request: lastHandledReconcileAt %q", k.Status.LastHandledReconcileAt)
		}
		return nil
	})
	reqs = log.all()
	// The reconcile request ran in full: its object was dry-run again, though unchanged.
	if n := countRequests(reqs, func(r loggedRequest) bool {
		return r.method == http.MethodPatch && strings.HasSuffix(r.path, "/configmaps/request") && strings.Contains(r.query, "dryRun")
	}); n == 0 {
		t.Errorf("the reconcile request did not run in full: no dry run of its ConfigMap\n%s", describeRequests(reqs))
	}

	// Nothing was written, or dry-run, to the unchanged Kustomizations' objects.
	for _, name := range unchanged {
		for _, o := range objectsOf[name] {
			if n := countRequests(reqs, func(r loggedRequest) bool {
				return r.method != http.MethodGet && strings.HasSuffix(r.path, "/"+o)
			}); n > 0 {
				t.Errorf("%s: %d writes or dry runs of %s after the restart\n%s", name, n, o, describeRequests(reqs))
			}
			if v := resourceVersion(t, ns, o); v != versionsBefore[o] {
				t.Errorf("%s: %s has resourceVersion %s, was %s before the restart", name, o, v, versionsBefore[o])
			}
		}
	}
	if skips := third.skips.Load(); skips < int64(len(unchanged)) {
		t.Errorf("%d runs skipped the apply after the restart, want at least %d (%v)", skips, len(unchanged), unchanged)
	}

	// The skip seeded the record in memory: drift is still corrected at tick's interval.
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "tick"}, &cm); err != nil {
		t.Fatal(err)
	}
	cm.Data["value"] = "by hand"
	if err := env.Client.Update(ctx, &cm, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	waitConfigMap(t, ns, "tick", "1")
}

// TestFailureClearsApplied: a run that fails drops status.applied, so that no restart skips on
// the strength of a state the cluster may no longer be in.
func TestFailureClearsApplied(t *testing.T) {
	ns := env.Namespace(t)
	files := map[string]string{"app/cm.yaml": configMap("app", "1")}
	publish(t, ns, "repo", "main@sha1:1", files)
	k := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) { k.Spec.TargetNamespace = ns })
	waitApplied(t, k, "main@sha1:1")
	if k.Status.Applied == nil {
		t.Fatal("no status.applied after a full success")
	}
	files["app/cm.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [not a name]}\n"
	publish(t, ns, "repo", "main@sha1:2", files)
	testenv.Eventually(t, timeout, func() error {
		if err := env.ObjectIn(k, meta.ReadyCondition, metav1.ConditionFalse, "", "main@sha1:2")(); err != nil {
			return err
		}
		if k.Status.Applied != nil {
			return fmt.Errorf("status.applied %+v after a failed run", *k.Status.Applied)
		}
		return nil
	})
}

// concerns selects the requests about Kustomization ns/name or its objects (paths ending in
// objects, or LISTs selecting its ownership labels).
func concerns(ns, name string, objects []string) func(loggedRequest) bool {
	label := url.QueryEscape(OwnerGroup + "/name=" + name)
	return func(r loggedRequest) bool {
		if strings.Contains(r.path, "/namespaces/"+ns+"/kustomizations/"+name) || strings.Contains(r.query, label) {
			return true
		}
		for _, o := range objects {
			if strings.HasSuffix(r.path, "/namespaces/"+ns+"/"+o) {
				return true
			}
		}
		return false
	}
}

func countRequests(reqs []loggedRequest, match func(loggedRequest) bool) int {
	n := 0
	for _, r := range reqs {
		if match(r) {
			n++
		}
	}
	return n
}

func describeRequests(reqs []loggedRequest) string {
	var b strings.Builder
	for _, r := range reqs {
		fmt.Fprintf(&b, "  %s %s?%s\n", r.method, r.path, r.query)
	}
	return b.String()
}

// resourceVersion is the resourceVersion of ns/<resource>/<name>, a core kind.
func resourceVersion(t *testing.T, ns, object string) string {
	t.Helper()
	resource, name, _ := strings.Cut(object, "/")
	var o client.Object
	switch resource {
	case "configmaps":
		o = &corev1.ConfigMap{}
	case "serviceaccounts":
		o = &corev1.ServiceAccount{}
	default:
		t.Fatalf("no kind for %s", resource)
	}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, o); err != nil {
		t.Fatal(err)
	}
	return o.GetResourceVersion()
}

// updateKustomization changes k with mutate and writes it, again on a conflict.
func updateKustomization(t *testing.T, k *kustomizev1.Kustomization, mutate func(*kustomizev1.Kustomization)) {
	t.Helper()
	testenv.Eventually(t, timeout, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(k), k); err != nil {
			return err
		}
		mutate(k)
		return env.Client.Update(context.Background(), k)
	})
}

// TestRestartPrunesDroppedHook: a hook no longer built while no controller ran is pruned by
// the first run after the restart, although the rest of the set is unchanged: a Kustomization
// with hooks never skips on status.applied.
func TestRestartPrunesDroppedHook(t *testing.T) {
	ns := env.Namespace(t)
	files := map[string]string{"app/migrate.yaml": hookJob("migrate", "pre-apply", ""), "app/cm.yaml": wavedConfigMap("cm", "")}
	publish(t, ns, "repo", "main@sha1:1", files)
	ks := createKustomization(t, ns, "app", "./app", func(k *kustomizev1.Kustomization) {
		k.Labels = map[string]string{shardLabel: ns}
		k.Spec.TargetNamespace = ns
		k.Spec.Timeout = &metav1.Duration{Duration: time.Minute}
	})
	_, stopFirst := startShard(t, ns, nil)
	waitJob(t, ns, "migrate")
	finishJob(t, ns, "migrate", true, "", "")
	waitApplied(t, ks, "main@sha1:1")
	stopFirst()

	delete(files, "app/migrate.yaml")
	publish(t, ns, "repo", "main@sha1:2", files)
	startShard(t, ns, nil)
	waitApplied(t, ks, "main@sha1:2")
	testenv.Eventually(t, timeout, func() error {
		if getJob(t, ns, "migrate") != nil {
			return fmt.Errorf("the hook Job no longer built is still there after the restart")
		}
		return nil
	})
}
