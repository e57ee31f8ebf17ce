package ui

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"weir.dev/cli/internal/objects"
)

// Denied is a scope the user may not list, shown on every page so that a forbidden namespace
// is reported rather than looking empty.
type Denied struct {
	// Kind is the kind's plural, e.g. kustomizations.
	Kind string
	// Namespace is the namespace, or "" for every namespace.
	Namespace string
}

// scope is one informer: a kind, in one namespace or ("") in all of them.
type scope struct {
	kind      *objects.Kind
	namespace string
}

// store keeps a summary row of every Weir object the user may list, fed by watches made with
// the user's own credentials. It holds rows, not objects: the informers' copies are trimmed
// to what a row needs, so memory stays proportional to the number of objects, not their size.
type store struct {
	dyn      dynamic.Interface
	kube     kubernetes.Interface
	fallback []string // namespaces to try when the user may not list namespaces
	onChange func(key string)

	// perNamespace are the kinds the user may list only namespace by namespace, and watched
	// the namespaces watched for them; both belong to start and then rediscoverEvery.
	perNamespace []*objects.Kind
	watched      map[scope]bool

	mu       sync.RWMutex
	rows     map[string]*Row
	denied   map[scope]Denied
	missing  []string // kinds whose CRD is not installed
	watchErr map[string]watchError
}

// watchError is a watch's last failure; it is over once the watch lists or watches again,
// which moves its resource version.
type watchError struct {
	message  string
	version  string
	informer cache.SharedIndexInformer
}

func newStore(dyn dynamic.Interface, kube kubernetes.Interface, fallback []string, onChange func(string)) *store {
	return &store{dyn: dyn, kube: kube, fallback: fallback, onChange: onChange, rows: map[string]*Row{}, watchErr: map[string]watchError{}, watched: map[scope]bool{}, denied: map[scope]Denied{}}
}

// start finds out what the user may list, starts a watch for each allowed scope (running
// until ctx ends) and waits up to timeout until every watch has listed once. When some kinds
// can be listed only namespace by namespace, it looks for new namespaces every rediscover.
func (s *store) start(ctx context.Context, timeout, rediscover time.Duration) error {
	probeCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	scopes, err := s.discover(probeCtx)
	if err != nil {
		return err
	}
	var synced []cache.InformerSynced
	for _, sc := range scopes {
		hasSynced, err := s.watch(ctx, sc)
		if err != nil {
			return err
		}
		synced = append(synced, hasSynced)
	}
	if !cache.WaitForCacheSync(probeCtx.Done(), synced...) {
		return fmt.Errorf("the watches of Weir's objects did not list within %s", timeout)
	}
	if len(s.perNamespace) > 0 && rediscover > 0 {
		go s.rediscoverEvery(ctx, rediscover)
	}
	return nil
}

// watch starts an informer for sc until ctx ends. The returned function reports when the
// handler, not only the informer, has seen the first list: then every row of sc is in.
func (s *store) watch(ctx context.Context, sc scope) (cache.InformerSynced, error) {
	inf := dynamicinformer.NewFilteredDynamicInformer(s.dyn, sc.kind.Resource(), sc.namespace, 0, cache.Indexers{}, nil).Informer()
	if err := inf.SetTransform(trim); err != nil {
		return nil, err
	}
	name := sc.kind.Plural
	if sc.namespace != "" {
		name += " in " + sc.namespace
	}
	if err := inf.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
		s.mu.Lock()
		s.watchErr[name] = watchError{message: err.Error(), version: inf.LastSyncResourceVersion(), informer: inf}
		s.mu.Unlock()
	}); err != nil {
		return nil, err
	}
	reg, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    s.put,
		UpdateFunc: func(_, obj any) { s.put(obj) },
		DeleteFunc: s.remove,
	})
	if err != nil {
		return nil, err
	}
	go inf.RunWithContext(ctx)
	return reg.HasSynced, nil
}

// discover returns the scopes the user may list: every namespace at once where allowed, else
// namespace by namespace, recording the forbidden ones.
func (s *store) discover(ctx context.Context) ([]scope, error) {
	var scopes []scope
	for _, k := range objects.Kinds {
		err := s.probe(ctx, k, "")
		switch {
		case err == nil:
			scopes = append(scopes, scope{kind: k})
		case apierrors.IsNotFound(err):
			s.mu.Lock()
			s.missing = append(s.missing, k.Kind)
			s.mu.Unlock()
		case apierrors.IsForbidden(err):
			s.perNamespace = append(s.perNamespace, k)
		default:
			return nil, fmt.Errorf("listing %s: %w", k.Plural, err)
		}
	}
	if len(s.perNamespace) == 0 {
		return scopes, nil
	}
	more, _, err := s.newNamespaceScopes(ctx, false)
	return append(scopes, more...), err
}

// recheckEvery is how many rounds of rediscovery pass between probes of the namespaces found
// forbidden, so that access granted later shows up without probing every namespace each round.
const recheckEvery = 5

// newNamespaceScopes probes the kinds listed namespace by namespace in the namespaces not
// watched yet (the forbidden ones too when recheck), records the forbidden ones, forgets those
// of namespaces that are gone, and returns the allowed ones and whether what is denied changed.
func (s *store) newNamespaceScopes(ctx context.Context, recheck bool) ([]scope, bool, error) {
	namespaces, err := s.namespaces(ctx)
	if err != nil {
		return nil, false, err
	}
	s.mu.RLock()
	wasDenied := make(map[scope]bool, len(s.denied))
	for sc := range s.denied {
		wasDenied[sc] = true
	}
	s.mu.RUnlock()
	exists := map[string]bool{}
	var allowed []scope
	denied := map[scope]Denied{}
	for _, ns := range namespaces {
		exists[ns] = true
		for _, k := range s.perNamespace {
			sc := scope{kind: k, namespace: ns}
			if s.watched[sc] || (wasDenied[sc] && !recheck) {
				continue
			}
			switch err := s.probe(ctx, k, ns); {
			case err == nil:
				allowed = append(allowed, sc)
				s.watched[sc] = true
			case apierrors.IsForbidden(err):
				denied[sc] = Denied{Kind: k.Plural, Namespace: ns}
			default:
				return nil, false, fmt.Errorf("listing %s in %s: %w", k.Plural, ns, err)
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := len(allowed) > 0
	for sc := range s.denied {
		if !exists[sc.namespace] || s.watched[sc] {
			delete(s.denied, sc)
			changed = true
		}
	}
	for sc, d := range denied {
		if _, ok := s.denied[sc]; !ok {
			changed = true
		}
		s.denied[sc] = d
	}
	return allowed, changed, nil
}

// rediscoverEvery looks for new namespaces every interval, and every recheckEvery rounds
// probes the forbidden ones again, and watches the kinds the user may list in them: a
// restricted user's UI follows namespaces created, and access granted, after it started.
func (s *store) rediscoverEvery(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for round := 1; ; round++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		scopes, changed, err := s.newNamespaceScopes(ctx, round%recheckEvery == 0)
		if err != nil {
			continue // the next round tries again; the existing watches carry on
		}
		for _, sc := range scopes {
			if _, err := s.watch(ctx, sc); err != nil {
				delete(s.watched, sc) // tried again next round
			}
		}
		if changed {
			s.onChange("*") // every page may show other banners or objects
		}
	}
}

// probe lists at most one object of kind k in namespace ("" for all) to learn whether the
// user may list them.
func (s *store) probe(ctx context.Context, k *objects.Kind, namespace string) error {
	_, err := s.dyn.Resource(k.Resource()).Namespace(namespace).List(ctx, metav1.ListOptions{Limit: 1})
	return err
}

// namespaces lists the cluster's namespaces, or when the user may not, returns the fallback
// ones (--namespace, or the kubeconfig context's namespace).
func (s *store) namespaces(ctx context.Context) ([]string, error) {
	list, err := s.kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if apierrors.IsForbidden(err) {
		return s.fallback, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing namespaces: %w", err)
	}
	names := make([]string, 0, len(list.Items))
	for _, ns := range list.Items {
		names = append(names, ns.Name)
	}
	return names, nil
}

// trim drops what no row needs from a watched object before the informer stores it.
func trim(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	u.SetManagedFields(nil)
	u.SetAnnotations(nil)
	if status, ok := u.Object["status"].(map[string]any); ok {
		delete(status, "inventory")
		delete(status, "drift")
		if h, ok := status["history"].([]any); ok && len(h) > 1 {
			status["history"] = h[:1]
		}
	}
	if spec, ok := u.Object["spec"].(map[string]any); ok {
		for key := range spec {
			switch key {
			case "suspend", "sourceRef", "chartRef", "url", "chart", "version", "dependsOn":
			default:
				delete(spec, key)
			}
		}
	}
	return u, nil
}

func (s *store) put(obj any) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	row := rowOf(u)
	if row == nil {
		return
	}
	s.mu.Lock()
	s.rows[row.Key()] = row
	s.mu.Unlock()
	s.onChange(row.Key())
}

func (s *store) remove(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	k := objects.KindByGVK(u.GroupVersionKind())
	if k == nil {
		return
	}
	key := rowKey(k, u.GetNamespace(), u.GetName())
	s.mu.Lock()
	delete(s.rows, key)
	s.mu.Unlock()
	s.onChange(key)
}

// snapshot returns every row, sorted failing first, then by kind, namespace and name.
func (s *store) snapshot() []*Row {
	s.mu.RLock()
	rows := make([]*Row, 0, len(s.rows))
	for _, r := range s.rows {
		rows = append(rows, r)
	}
	s.mu.RUnlock()
	sortRows(rows)
	return rows
}

// access returns the forbidden scopes, the kinds without CRDs and the watches failing now.
func (s *store) access() (denied []Denied, missing []string, failing []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, we := range s.watchErr {
		if we.informer.LastSyncResourceVersion() != we.version {
			delete(s.watchErr, name) // it has recovered
			continue
		}
		failing = append(failing, name+": "+we.message)
	}
	sort.Strings(failing)
	order := map[string]int{}
	for i, k := range objects.Kinds {
		order[k.Plural] = i
	}
	for _, d := range s.denied {
		denied = append(denied, d)
	}
	sort.Slice(denied, func(i, j int) bool {
		if denied[i].Namespace != denied[j].Namespace {
			return denied[i].Namespace < denied[j].Namespace
		}
		return order[denied[i].Kind] < order[denied[j].Kind]
	})
	return denied, append([]string(nil), s.missing...), failing
}

// namespacesSeen returns the namespaces the user may see objects in: those of the rows and
// of the per-namespace watches.
func (s *store) namespacesSeen() []string {
	seen := map[string]bool{}
	s.mu.RLock()
	for _, r := range s.rows {
		seen[r.Namespace] = true
	}
	s.mu.RUnlock()
	out := make([]string, 0, len(seen))
	for ns := range seen {
		out = append(out, ns)
	}
	sort.Strings(out)
	return out
}
