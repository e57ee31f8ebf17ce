package cmd

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	helmv1 "weir.dev/api/helm/v1"
	"weir.dev/api/meta"
	"weir.dev/cli/internal/objects"
)

func init() { register(newReconcileCmd) }

type reconcileOptions struct {
	withSource     bool
	overrideWindow bool
	force, reset   bool
	timeout        time.Duration
}

// requests returns the annotations --force and --reset add to the reconcile request of an
// object of kind k, refusing them for kinds other than HelmRelease.
func (o *reconcileOptions) requests(k *objects.Kind) ([]string, error) {
	var keys []string
	if o.force {
		keys = append(keys, helmv1.ForceRequestAnnotation)
	}
	if o.reset {
		keys = append(keys, helmv1.ResetRequestAnnotation)
	}
	if len(keys) > 0 && k.Kind != helmv1.HelmReleaseKind {
		return nil, fmt.Errorf("--force and --reset apply to a HelmRelease, not a %s", k.Kind)
	}
	return keys, nil
}

func newReconcileCmd(g *Globals) *cobra.Command {
	o := &reconcileOptions{}
	cmd := &cobra.Command{
		Use:   "reconcile <kind> <name>",
		Short: "Reconcile a Weir object now and wait for the result",
		Long: "reconcile asks the object's controller to reconcile it now (through the\n" +
			meta.ReconcileRequestAnnotation + " annotation), waits until the controller handled the\n" +
			"request and decided Ready for the object's current generation, and exits 0 when it is\n" +
			"Ready, 1 with the object's failure message as soon as it failed (also while the\n" +
			"controller retries). Kinds: " + objects.KindNames() + ".",
		Example: `  # Fetch the source now, then apply it
  weir reconcile kustomization apps --with-source

  # Refresh a Git repository, giving up after a minute
  weir reconcile gitrepo podinfo -n apps --timeout 1m

  # Upgrade a HelmRelease once even though nothing changed, and after its retries ran out
  weir reconcile helmrelease podinfo -n apps --force --reset`,
		Args:              cobra.ExactArgs(2),
		ValidArgsFunction: completeKindThenName(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := objects.FindKind(args[0])
			if err != nil {
				return err
			}
			also, err := o.requests(k)
			if err != nil {
				return err
			}
			c, err := g.Client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			r := &reconciler{c: c, out: g.Out, timeout: o.timeout, deadline: time.Now().Add(o.timeout)}
			u, err := getObject(ctx, c, k, g.Namespace(), args[1])
			if err != nil {
				return err
			}
			if o.withSource {
				if !objects.HasSource(k) {
					return fmt.Errorf("--with-source needs a Kustomization, a HelmRelease or a HelmChart, not a %s", k.Kind)
				}
				sk, sns, sname, err := objects.SourceOf(u)
				if err != nil {
					return err
				}
				if sk.Kind == "ExternalArtifact" {
					// Nothing reconciles an ExternalArtifact itself: its generator does.
					if sk, sname, err = generatorOf(ctx, c, sk, sns, sname); err != nil {
						return err
					}
				}
				if _, err := r.reconcile(ctx, sk, sns, sname); err != nil {
					return err
				}
			}
			if o.overrideWindow {
				return r.overrideWindow(ctx, k, u)
			}
			name := u.GetName()
			if k.Kind == "ExternalArtifact" {
				// Nothing reconciles an ExternalArtifact itself: its generator does.
				if k, name, err = generatorOf(ctx, c, k, u.GetNamespace(), name); err != nil {
					return err
				}
			}
			_, err = r.reconcile(ctx, k, u.GetNamespace(), name, also...)
			return err
		},
	}
	cmd.Flags().BoolVar(&o.overrideWindow, "override-window", false, "apply once even outside the sync windows (Kustomization, HelmRelease); the controller records an event")
	cmd.Flags().BoolVar(&o.withSource, "with-source", false, "reconcile the source of the Kustomization, HelmRelease or HelmChart first, and wait for it")
	cmd.Flags().DurationVar(&o.timeout, "timeout", 5*time.Minute, "how long to wait for the result")
	cmd.Flags().BoolVar(&o.force, "force", false, "HelmRelease only: install or upgrade once even when the release is up to date or its retries are used up ("+helmv1.ForceRequestAnnotation+")")
	cmd.Flags().BoolVar(&o.reset, "reset", false, "HelmRelease only: reset the install and upgrade failure counters, so exhausted retries start again ("+helmv1.ResetRequestAnnotation+")")
	return cmd
}

// reconciler requests reconciles and waits for their results, printing progress to out.
type reconciler struct {
	c       client.Client
	out     io.Writer
	timeout time.Duration
	// deadline ends every wait, so that --with-source shares one timeout.
	deadline time.Time
	// poll is the interval between reads of the object; 500ms when zero.
	poll time.Duration
}

// reconcile requests a reconcile of the object, with the also annotations set to the same
// request (see objects.RequestReconcile), and waits until it is decided. It returns the object
// as last read, and an ExitError when it is not Ready.
func (r *reconciler) reconcile(ctx context.Context, k *objects.Kind, namespace, name string, also ...string) (*unstructured.Unstructured, error) {
	u, err := getObject(ctx, r.c, k, namespace, name)
	if err != nil {
		return nil, err
	}
	ref := fmt.Sprintf("%s %s/%s", k.Kind, namespace, name)
	if objects.IsSuspended(u) {
		return nil, fmt.Errorf("%s is suspended: resume it with `weir resume %s %s -n %s`", ref, strings.ToLower(k.Kind), name, namespace)
	}
	requested, err := objects.RequestReconcile(ctx, r.c, u, also...)
	if err != nil {
		return nil, fmt.Errorf("requesting a reconcile of %s: %w", ref, apiError(err))
	}
	fmt.Fprintf(r.out, "► requested a reconcile of %s%s\n", ref, describeRequests(also))
	return r.wait(ctx, k, u, requested)
}

// wait polls u until its controller handled the request and decided Ready for its generation:
// Ready=True exits 0; Ready=False exits 1 with the object's failure message at once, even while
// the controller retries; Ready=Unknown (a health wait, say) is waited for, printing its
// progress. A request not handled in time is reported as such, and as a busy controller, not
// one that may be down, when the object's status shows it is being worked on.
func (r *reconciler) wait(ctx context.Context, k *objects.Kind, u *unstructured.Unstructured, requested string) (*unstructured.Unstructured, error) {
	ref := fmt.Sprintf("%s %s/%s", k.Kind, u.GetNamespace(), u.GetName())
	fmt.Fprintf(r.out, "◎ waiting for %s to reconcile %s\n", objects.ControllerOf(k), ref)
	interval := r.poll
	if interval == 0 {
		interval = 500 * time.Millisecond
	}
	before := workStateOf(u)
	handled, lastMessage := false, ""
	for {
		if objects.LastHandledReconcileAt(u) == requested {
			if !handled {
				fmt.Fprintf(r.out, "◎ %s picked up the request\n", objects.ControllerOf(k))
				handled = true
			}
			c := objects.ReadyCondition(u)
			if done, ok := handledOutcome(u); done {
				if ok {
					fmt.Fprintf(r.out, "✔ %s is Ready: %s\n", ref, c.Message)
					if rev := k.Revision(u); rev != "" {
						fmt.Fprintf(r.out, "  revision %s\n", rev)
					}
					return u, nil
				}
				fmt.Fprintf(r.out, "✗ %s is not Ready\n", ref)
				if apimeta.IsStatusConditionTrue(objects.Conditions(u), meta.ReconcilingCondition) &&
					!apimeta.IsStatusConditionTrue(objects.Conditions(u), meta.StalledCondition) {
					fmt.Fprintf(r.out, "  %s retries it; `weir get %s %s -n %s` shows its progress\n", objects.ControllerOf(k), strings.ToLower(k.Kind), u.GetName(), u.GetNamespace())
				}
				return u, &ExitError{Code: 1, Err: fmt.Errorf("%s: %s: %s", ref, c.Reason, c.Message)}
			}
			if c != nil && c.Message != "" && c.Message != lastMessage {
				fmt.Fprintf(r.out, "◎ %s: %s\n", c.Reason, c.Message)
				lastMessage = c.Message
			}
		}
		select {
		case <-ctx.Done():
			return u, ctx.Err()
		case <-time.After(time.Until(r.deadline)):
			if !handled {
				if busy := busyWith(u, before); busy != "" {
					return u, &ExitError{Code: 1, Err: fmt.Errorf("timed out after %s: %s has not handled the reconcile request of %s yet: it is busy with it (%s) and handles the request when that run ends",
						r.timeout, objects.ControllerOf(k), ref, busy)}
				}
				return u, &ExitError{Code: 1, Err: fmt.Errorf("timed out after %s: %s did not handle the reconcile request of %s; is it running? (see `weir check`)", r.timeout, objects.ControllerOf(k), ref)}
			}
			state := "no Ready condition"
			if c := objects.ReadyCondition(u); c != nil {
				state = fmt.Sprintf("Ready=%s %s: %s", c.Status, c.Reason, c.Message)
			}
			return u, &ExitError{Code: 1, Err: fmt.Errorf("timed out after %s waiting for %s, which handled the request and is still in progress: %s", r.timeout, ref, state)}
		case <-time.After(interval):
		}
		fresh := k.New()
		if err := r.c.Get(ctx, client.ObjectKeyFromObject(u), fresh); err != nil {
			return u, apiError(err)
		}
		u = fresh
	}
}

// handledOutcome reports, for an object whose controller handled the request, whether its
// Ready condition is an outcome for its current generation, and whether it is True. Ready=False
// is an outcome even while Reconciling (the controller retries a failure); Ready=Unknown, or a
// Ready of an older generation, is not.
func handledOutcome(u *unstructured.Unstructured) (done, ready bool) {
	c := objects.ReadyCondition(u)
	if c == nil || (c.ObservedGeneration != 0 && c.ObservedGeneration < u.GetGeneration()) {
		return false, false
	}
	switch c.Status {
	case metav1.ConditionTrue:
		return objects.Decided(u)
	case metav1.ConditionFalse:
		return true, false
	}
	return false, false
}

// workState is what shows a controller at work on u: its Reconciling condition, handled
// request and observed generation.
type workState struct {
	reconciling        *metav1.Condition
	handled            string
	observedGeneration int64
}

func workStateOf(u *unstructured.Unstructured) workState {
	return workState{
		reconciling:        apimeta.FindStatusCondition(objects.Conditions(u), meta.ReconcilingCondition),
		handled:            objects.LastHandledReconcileAt(u),
		observedGeneration: objects.ObservedGeneration(u),
	}
}

// busyWith says how u's status shows its controller at work (Reconciling=True, or a handled
// request or observed generation that moved since before), or "" when it does not.
func busyWith(u *unstructured.Unstructured, before workState) string {
	now := workStateOf(u)
	switch {
	case now.reconciling != nil && now.reconciling.Status == metav1.ConditionTrue:
		return fmt.Sprintf("Reconciling: %s", objects.Shorten(now.reconciling.Message, 200))
	case now.handled != before.handled:
		return fmt.Sprintf("it handled request %q meanwhile", now.handled)
	case now.observedGeneration != before.observedGeneration:
		return fmt.Sprintf("it observed generation %d meanwhile", now.observedGeneration)
	}
	return ""
}

// completeKindThenName completes a kind, then the names of that kind's objects in the namespace.
func completeKindThenName(g *Globals) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		switch len(args) {
		case 0:
			return kindCompletions(false), cobra.ShellCompDirectiveNoFileComp
		case 1:
			k, err := objects.FindKind(args[0])
			if err != nil {
				return nil, cobra.ShellCompDirectiveError
			}
			c, err := g.Client()
			if err != nil {
				return nil, cobra.ShellCompDirectiveError
			}
			list := k.NewList()
			if err := c.List(cmd.Context(), list, client.InNamespace(g.Namespace())); err != nil {
				return nil, cobra.ShellCompDirectiveError
			}
			var names []string
			for _, item := range list.Items {
				names = append(names, item.GetName())
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		}
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
}

// overrideWindow requests a reconcile that applies outside u's sync windows, once, and waits
// for it.
func (r *reconciler) overrideWindow(ctx context.Context, k *objects.Kind, u *unstructured.Unstructured) error {
	ref := fmt.Sprintf("%s %s/%s", k.Kind, u.GetNamespace(), u.GetName())
	if !objects.HasGate(k) {
		return fmt.Errorf("--override-window needs a Kustomization or a HelmRelease, not a %s", k.Kind)
	}
	if objects.IsSuspended(u) {
		return fmt.Errorf("%s is suspended: resume it with `weir resume %s %s -n %s`", ref, strings.ToLower(k.Kind), u.GetName(), u.GetNamespace())
	}
	requested, err := objects.OverrideWindow(ctx, r.c, u)
	if err != nil {
		return fmt.Errorf("requesting a reconcile of %s outside its sync windows: %w", ref, apiError(err))
	}
	fmt.Fprintf(r.out, "► requested a reconcile of %s outside its sync windows\n", ref)
	_, err = r.wait(ctx, k, u, requested)
	return err
}

// describeRequests says what the also annotations of a reconcile request ask for.
func describeRequests(also []string) string {
	var what []string
	for _, key := range also {
		switch key {
		case helmv1.ForceRequestAnnotation:
			what = append(what, "a forced upgrade")
		case helmv1.ResetRequestAnnotation:
			what = append(what, "reset failure counters")
		}
	}
	if len(what) == 0 {
		return ""
	}
	return " with " + strings.Join(what, " and ")
}
