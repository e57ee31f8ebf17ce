package ui

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/cli/internal/objects"
)

// maxTraceDepth bounds how many managers trace follows up (a Kustomization applying a
// Kustomization applying …).
const maxTraceDepth = 10

// traceData answers "what manages this object?", as `weir trace` does.
type traceData struct {
	// Object and Namespace are what the user asked for: <kind>/<name> and a namespace.
	Object, Namespace string
	Namespaces        []string
	Err               string
	// Ref, Health and Message describe the object found.
	Ref, Health, Message string
	// Managers are the Kustomizations and HelmReleases that applied it, nearest first.
	Managers []*Row
	// Sources is the source chain of the outermost manager.
	Sources []chainNode
}

func (s *Server) trace(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := &traceData{Object: strings.TrimSpace(q.Get("object")), Namespace: strings.TrimSpace(q.Get("namespace")), Namespaces: s.store.namespacesSeen()}
	if d.Object != "" {
		s.traceObject(r.Context(), d)
	}
	s.render(w, r, http.StatusOK, "trace", s.newView("Trace", d))
}

// traceObject finds d's object, then what applied it, and so on up, then the sources.
func (s *Server) traceObject(ctx context.Context, d *traceData) {
	kind, name, ok := strings.Cut(d.Object, "/")
	if !ok || kind == "" || name == "" {
		d.Err = fmt.Sprintf("%q: want <kind>/<name>, e.g. deployment/web", d.Object)
		return
	}
	mapping, err := objects.MappingFor(s.mapper, kind)
	if err != nil {
		s.discovery.Reset() // a CRD installed since: ask discovery again
		mapping, err = objects.MappingFor(s.mapper, kind)
	}
	if err != nil {
		d.Err = err.Error()
		return
	}
	gvk := mapping.GroupVersionKind
	if gvk.Group == "" && gvk.Kind == "Secret" {
		d.Err = "the UI never reads Secrets: trace one with `weir trace secret/" + name + "`"
		return
	}
	key := client.ObjectKey{Name: name}
	if mapping.Scope.Name() == apimeta.RESTScopeNameNamespace {
		if d.Namespace == "" {
			d.Err = "a " + gvk.Kind + " lives in a namespace: choose one"
			return
		}
		key.Namespace = d.Namespace
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	if err := s.client.Get(ctx, key, u); err != nil {
		d.Err = apiMessage(fmt.Sprintf("reading %s %s", gvk.Kind, strings.TrimPrefix(key.String(), "/")), err)
		return
	}
	st, msg := objects.Health(u)
	d.Ref, d.Health, d.Message = objects.Ref(u), st.String(), msg
	cur := u
	for range maxTraceDepth {
		owner, err := objects.ManagerOf(ctx, s.client, cur)
		if err != nil {
			d.Err = apiMessage("finding what manages "+objects.Ref(cur), err)
			return
		}
		if owner == nil {
			break
		}
		d.Managers = append(d.Managers, rowOf(owner))
		cur = owner
	}
	if len(d.Managers) == 0 {
		d.Err = objects.NotManaged(u).Error()
		return
	}
	d.Sources = s.upstream(ctx, cur)
}
