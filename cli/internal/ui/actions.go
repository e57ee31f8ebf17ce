package ui

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/cli/internal/objects"
)

// readOnlyReason explains the disabled actions of a server started with --read-only.
const readOnlyReason = "this UI was started with --read-only"

// accessTTL is how long an access review's answer is reused.
const accessTTL = 30 * time.Second

// accessCache asks the API server whether the user may do something (a
// SelfSubjectAccessReview), remembering answers for accessTTL.
type accessCache struct {
	kube kubernetes.Interface
	mu   sync.Mutex
	seen map[authorizationv1.ResourceAttributes]accessAnswer
}

type accessAnswer struct {
	allowed bool
	reason  string
	at      time.Time
}

func newAccessCache(kube kubernetes.Interface) *accessCache {
	return &accessCache{kube: kube, seen: map[authorizationv1.ResourceAttributes]accessAnswer{}}
}

// allowed reports whether the user may verb the resource of k in namespace; when not, why.
func (a *accessCache) allowed(ctx context.Context, verb string, k *objects.Kind, namespace string) (bool, string) {
	attrs := authorizationv1.ResourceAttributes{Verb: verb, Group: k.GroupVersion.Group, Resource: k.Plural, Namespace: namespace}
	a.mu.Lock()
	if ans, ok := a.seen[attrs]; ok && time.Since(ans.at) < accessTTL {
		a.mu.Unlock()
		return ans.allowed, ans.reason
	}
	a.mu.Unlock()
	review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &attrs}}
	res, err := a.kube.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
	var ans accessAnswer
	switch {
	case err != nil:
		// Cannot tell: leave the action enabled; the API server decides when it is used.
		return true, ""
	case res.Status.Allowed:
		ans = accessAnswer{allowed: true}
	default:
		ans = accessAnswer{reason: fmt.Sprintf("your Kubernetes user may not %s %s in namespace %s", verb, k.Plural, namespace)}
	}
	ans.at = time.Now()
	a.mu.Lock()
	a.seen[attrs] = ans
	a.mu.Unlock()
	return ans.allowed, ans.reason
}

// Action is a button on an object's page.
type Action struct {
	Name  string // reconcile, reconcile-source, suspend, resume, approve
	Label string
	// Revision is the revision an approve button approves: the plan the page showed.
	Revision string
	// Disabled says why the action cannot be used, "" when it can.
	Disabled string
}

// actionsFor returns the actions the page of u offers, each disabled with the reason when the
// user's RBAC forbids the patch it makes.
func (s *Server) actionsFor(ctx context.Context, k *objects.Kind, u *unstructured.Unstructured) []Action {
	ok, why := false, readOnlyReason
	if !s.opts.ReadOnly {
		ok, why = s.access.allowed(ctx, "patch", k, u.GetNamespace())
	}
	disabled := ""
	if !ok {
		disabled = why
	}
	var out []Action
	if objects.IsSuspended(u) {
		out = append(out, Action{Name: "resume", Label: "Resume", Disabled: disabled})
		return out
	}
	if p := objects.PendingPlan(u); p != nil {
		out = append(out, Action{Name: "approve", Label: "Approve revision " + p.Revision, Revision: p.Revision, Disabled: disabled})
	}
	out = append(out, Action{Name: "reconcile", Label: "Reconcile now", Disabled: disabled})
	if objects.HasSource(k) {
		a := Action{Name: "reconcile-source", Label: "Reconcile with source", Disabled: disabled}
		if sk, sns, _, err := objects.SourceOf(u); err != nil {
			a.Disabled = err.Error()
		} else if ok, why := s.access.allowed(ctx, "patch", sk, sns); !ok && a.Disabled == "" {
			a.Disabled = why + " (the source)"
		}
		out = append(out, a)
	}
	out = append(out, Action{Name: "suspend", Label: "Suspend", Disabled: disabled})
	return out
}

// act runs an action, with the same API calls the CLI's reconcile, suspend and resume make.
// A browser's fetch gets the outcome as text; a plain form post is sent back to the page.
func (s *Server) act(w http.ResponseWriter, r *http.Request) {
	k, err := objects.FindKind(r.PathValue("kind"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	ns, name, action := r.PathValue("namespace"), r.PathValue("name"), r.PathValue("action")
	msg, status := readOnlyReason, http.StatusForbidden
	if !s.opts.ReadOnly {
		msg, status = s.do(r.Context(), k, ns, name, action, r.URL.Query().Get("revision"))
	}
	if s.opts.Log != nil {
		// The terminal running `weir ui` keeps a record of what was done through it.
		fmt.Fprintf(s.opts.Log, "%s %s %s %s/%s: %d %s\n", time.Now().Format(time.TimeOnly), action, k.Kind, ns, name, status, msg)
	}
	if r.Header.Get("X-Weir-Token") == "" {
		http.Redirect(w, r, "/objects/"+rowKey(k, ns, name), http.StatusSeeOther)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprint(w, msg)
}

// do runs action on the object and returns a message for the user and an HTTP status.
// revision is the revision an approval names (the plan the page showed).
func (s *Server) do(ctx context.Context, k *objects.Kind, ns, name, action, revision string) (string, int) {
	ref := fmt.Sprintf("%s %s/%s", k.Kind, ns, name)
	u := k.New()
	if err := s.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
		return apiMessage("reading "+ref, err), statusOf(err)
	}
	switch action {
	case "reconcile", "reconcile-source":
		if objects.IsSuspended(u) {
			return ref + " is suspended: resume it first", http.StatusConflict
		}
		var source string
		if action == "reconcile-source" {
			sk, sns, sname, err := objects.SourceOf(u)
			if err != nil {
				return err.Error(), http.StatusBadRequest
			}
			src := sk.New()
			if err := s.client.Get(ctx, client.ObjectKey{Namespace: sns, Name: sname}, src); err != nil {
				return apiMessage(fmt.Sprintf("reading the source %s %s/%s", sk.Kind, sns, sname), err), statusOf(err)
			}
			if _, err := objects.RequestReconcile(ctx, s.client, src); err != nil {
				return apiMessage(fmt.Sprintf("requesting a reconcile of %s %s/%s", sk.Kind, sns, sname), err), statusOf(err)
			}
			source = fmt.Sprintf(" and its source %s %s/%s", sk.Kind, sns, sname)
		}
		if _, err := objects.RequestReconcile(ctx, s.client, u); err != nil {
			return apiMessage("requesting a reconcile of "+ref, err), statusOf(err)
		}
		return fmt.Sprintf("Requested a reconcile of %s%s; %s will act on it.", ref, source, objects.ControllerOf(k)), http.StatusOK
	case "approve":
		return s.approve(ctx, k, u, revision)
	case "suspend", "resume":
		suspend := action == "suspend"
		if err := objects.SetSuspend(ctx, s.client, u, suspend); err != nil {
			return apiMessage(action+" "+ref, err), statusOf(err)
		}
		if suspend {
			return "Suspended " + ref + ".", http.StatusOK
		}
		// As `weir resume` does: reconcile at once rather than at the next interval.
		if _, err := objects.RequestReconcile(ctx, s.client, u); err != nil {
			return apiMessage("requesting a reconcile of "+ref, err), statusOf(err)
		}
		return "Resumed " + ref + " and requested a reconcile.", http.StatusOK
	}
	return fmt.Sprintf("unknown action %q: want reconcile, reconcile-source, suspend, resume or approve", action), http.StatusNotFound
}

// apiMessage words an API error for the user: a forbidden one says so plainly.
func apiMessage(what string, err error) string {
	if apierrors.IsForbidden(err) {
		return what + ": forbidden by Kubernetes RBAC: " + err.Error()
	}
	return what + ": " + err.Error()
}

// statusOf is the HTTP status for an API error.
func statusOf(err error) int {
	if s, ok := err.(apierrors.APIStatus); ok && s.Status().Code != 0 {
		return int(s.Status().Code)
	}
	return http.StatusBadGateway
}
