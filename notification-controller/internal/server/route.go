package server

import (
	"context"
	"maps"
	"sync"

	eventv1 "github.com/fluxcd/pkg/apis/event/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	notificationv1 "weir.dev/api/notification/v1"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/notification-controller/internal/dispatch"
	"weir.dev/notification-controller/internal/match"
	"weir.dev/notification-controller/internal/notifier"
	"weir.dev/notification-controller/internal/provider"
	"weir.dev/pkg/gitweb"
)

// route hands e to the Provider of every Alert it matches and returns how many it reached.
// Problems with one Alert or Provider are logged, without secrets, and skip only that one.
func (s *EventServer) route(ctx context.Context, e *eventv1.Event) int {
	log := s.opts.Log.WithValues("object", objectRef(e))
	alerts := &notificationv1.AlertList{}
	var opts []client.ListOption
	if !s.opts.CrossNamespace {
		opts = append(opts, client.InNamespace(e.InvolvedObject.Namespace))
	}
	if err := s.opts.Client.List(ctx, alerts, opts...); err != nil {
		log.Error(err, "listing Alerts")
		return 0
	}
	labels := s.labelsOnce(ctx, e)
	var commitURL *string
	routed := 0
	for i := range alerts.Items {
		a, err := s.alerts.compiled(&alerts.Items[i])
		if err != nil {
			log.V(1).Info("skipping an invalid Alert", "alert", key(a.Alert), "error", err.Error())
			continue
		}
		if !a.Matches(e, labels, s.opts.CrossNamespace) {
			continue
		}
		p := &notificationv1.Provider{}
		if err := s.opts.Client.Get(ctx, client.ObjectKey{Namespace: a.Namespace, Name: a.Spec.ProviderRef.Name}, p); err != nil {
			log.Error(err, "the Alert's Provider cannot be read", "alert", key(a.Alert))
			continue
		}
		if p.Spec.Suspend {
			continue
		}
		n, err := provider.Build(ctx, s.opts.Client, s.opts.Clients, p)
		if err != nil {
			log.Error(err, "the Provider cannot deliver", "provider", key(p))
			continue
		}
		if commitURL == nil {
			url := s.commitURL(ctx, e)
			commitURL = &url
		}
		job := dispatch.Job{
			Provider: key(p),
			Type:     p.Spec.Type,
			Lane:     objectRef(e),
			Notifier: n,
			Event:    &notifier.Event{Event: withAlertMetadata(e, a.Alert), CommitURL: *commitURL},
			Timeout:  p.GetTimeout(),
		}
		if s.dispatcher.Submit(job) {
			routed++
		}
	}
	return routed
}

// withAlertMetadata returns a copy of e whose metadata also holds the Alert's eventMetadata
// and summary; keys the event has keep the event's value.
func withAlertMetadata(e *eventv1.Event, a *notificationv1.Alert) eventv1.Event {
	out := *e
	out.Metadata = maps.Clone(e.Metadata)
	if out.Metadata == nil {
		out.Metadata = map[string]string{}
	}
	for k, v := range a.Spec.EventMetadata {
		if _, ok := out.Metadata[k]; !ok {
			out.Metadata[k] = v
		}
	}
	if _, ok := out.Metadata["summary"]; !ok && a.Spec.Summary != "" {
		out.Metadata["summary"] = a.Spec.Summary
	}
	return out
}

// labelsOnce returns a function fetching the involved object's labels once.
func (s *EventServer) labelsOnce(ctx context.Context, e *eventv1.Event) match.LabelsFunc {
	var (
		once   sync.Once
		labels map[string]string
		err    error
	)
	return func() (map[string]string, error) {
		once.Do(func() {
			o := e.InvolvedObject
			obj := &metav1.PartialObjectMetadata{}
			obj.SetGroupVersionKind(schema.FromAPIVersionAndKind(o.APIVersion, o.Kind))
			if err = s.opts.Client.Get(ctx, client.ObjectKey{Namespace: o.Namespace, Name: o.Name}, obj); err == nil {
				labels = obj.GetLabels()
			}
		})
		return labels, err
	}
}

// commitURL links the event's commit when its source is a GitRepository whose URL has a known
// commit page: the involved object itself, or the source of a Kustomization or HelmRelease.
func (s *EventServer) commitURL(ctx context.Context, e *eventv1.Event) string {
	sha, ok := notifier.CommitOf(e)
	if !ok {
		return ""
	}
	o := e.InvolvedObject
	gitRepo := client.ObjectKey{Namespace: o.Namespace}
	switch o.Kind {
	case sourcev1.GitRepositoryKind:
		gitRepo.Name = o.Name
	case kustomizev1.KustomizationKind:
		ks := &kustomizev1.Kustomization{}
		if s.opts.Client.Get(ctx, client.ObjectKey{Namespace: o.Namespace, Name: o.Name}, ks) != nil ||
			ks.Spec.SourceRef.Kind != sourcev1.GitRepositoryKind {
			return ""
		}
		gitRepo.Name = ks.Spec.SourceRef.Name
		if ks.Spec.SourceRef.Namespace != "" {
			gitRepo.Namespace = ks.Spec.SourceRef.Namespace
		}
	case helmv1.HelmReleaseKind:
		hr := &helmv1.HelmRelease{}
		if s.opts.Client.Get(ctx, client.ObjectKey{Namespace: o.Namespace, Name: o.Name}, hr) != nil ||
			hr.Spec.Chart == nil || hr.Spec.Chart.Spec.SourceRef.Kind != sourcev1.GitRepositoryKind {
			return ""
		}
		gitRepo.Name = hr.Spec.Chart.Spec.SourceRef.Name
		if ns := hr.Spec.Chart.Spec.SourceRef.Namespace; ns != "" {
			gitRepo.Namespace = ns
		}
	default:
		return ""
	}
	repo := &sourcev1.GitRepository{}
	if err := s.opts.Client.Get(ctx, gitRepo, repo); err != nil {
		return ""
	}
	return gitweb.CommitURL(repo.Spec.URL, sha)
}

// alertCache keeps each Alert's compiled expressions for as long as its generation is current.
type alertCache struct {
	mu sync.Mutex
	m  map[types.UID]compiledAlert
}

type compiledAlert struct {
	generation int64
	alert      *match.Alert
	err        error
}

// maxCachedAlerts bounds the cache; past it the cache starts again.
const maxCachedAlerts = 4096

func newAlertCache() *alertCache { return &alertCache{m: map[types.UID]compiledAlert{}} }

// compiled returns a compiled. The returned Alert is valid even with an error, for logging.
func (c *alertCache) compiled(a *notificationv1.Alert) (*match.Alert, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[a.UID]; ok && e.generation == a.Generation {
		if e.err != nil {
			return &match.Alert{Alert: a}, e.err
		}
		return e.alert, nil
	}
	compiled, err := match.Compile(a)
	if len(c.m) >= maxCachedAlerts {
		c.m = map[types.UID]compiledAlert{}
	}
	c.m[a.UID] = compiledAlert{generation: a.Generation, alert: compiled, err: err}
	if err != nil {
		return &match.Alert{Alert: a}, err
	}
	return compiled, nil
}

func key(o client.Object) string { return o.GetNamespace() + "/" + o.GetName() }
