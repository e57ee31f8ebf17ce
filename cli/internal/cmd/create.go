package cmd

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	"weir.dev/cli/internal/manifest"
	"weir.dev/cli/internal/objects"
)

func init() { register(newCreateCmd) }

// createOwner is the field manager of what `weir create` applies.
const createOwner = "weir"

// createOptions are the flags every `weir create` subcommand shares.
type createOptions struct {
	export  bool
	timeout time.Duration
	labels  []string
}

func newCreateCmd(g *Globals) *cobra.Command {
	o := &createOptions{}
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create or update Weir objects, Secrets and tenants, or print them with --export",
		Long: "create builds an object from flags, applies it with server-side apply (field manager\n" +
			"\"weir\") and waits until its controller says it is Ready, printing each change of its\n" +
			"conditions; it exits 1 with the reason when it is not. Running it again updates the object.\n" +
			"With --export it prints the YAML instead, for a Git repository, and needs no cluster.",
		Example: `  # A Git source and a Kustomization applying ./deploy from it
  weir create source git app --url https://github.com/acme/app --branch main
  weir create kustomization app --source GitRepository/app --path ./deploy --prune

  # The same, as YAML to commit
  weir create source git app --url https://github.com/acme/app --branch main --export > app-source.yaml`,
	}
	cmd.PersistentFlags().BoolVar(&o.export, "export", false, "print the YAML instead of applying it")
	cmd.PersistentFlags().DurationVar(&o.timeout, "timeout", 5*time.Minute, "how long to wait until the object is Ready")
	cmd.PersistentFlags().StringArrayVar(&o.labels, "label", nil, "a label to set, key=value (repeatable)")
	source := &cobra.Command{Use: "source", Short: "Create a GitRepository, OCIRepository or HelmRepository"}
	source.AddCommand(newCreateSourceGitCmd(g, o), newCreateSourceOCICmd(g, o), newCreateSourceHelmCmd(g, o))
	secret := &cobra.Command{Use: "secret", Short: "Create a Secret with credentials for a source"}
	secret.AddCommand(newCreateSecretGitCmd(g, o), newCreateSecretHelmCmd(g, o), newCreateSecretOCICmd(g, o), newCreateSecretTLSCmd(g, o))
	cmd.AddCommand(source, secret, newCreateKustomizationCmd(g, o), newCreateHelmReleaseCmd(g, o),
		newCreateProviderCmd(g, o), newCreateAlertCmd(g, o), newCreateReceiverCmd(g, o), newCreateTenantCmd(g, o))
	return cmd
}

// meta returns the name, the namespace and the labels of the object to create.
func (o *createOptions) meta(g *Globals, name string) manifest.Meta {
	return manifest.Meta{Name: name, Namespace: g.Namespace(), Labels: o.labels}
}

// run builds b's objects and prints them with --export, or applies them and waits until every
// Weir object among them is Ready.
func (o *createOptions) run(ctx context.Context, g *Globals, b manifest.Builder) error {
	objs, err := b.Objects()
	if err != nil {
		return err
	}
	us, err := manifest.ToUnstructured(objs)
	if err != nil {
		return err
	}
	if o.export {
		y, err := manifest.YAML(us)
		if err != nil {
			return err
		}
		_, err = g.Out.Write(y)
		return err
	}
	c, err := g.Client()
	if err != nil {
		return err
	}
	for _, u := range us {
		if err := applyObject(ctx, c, u); err != nil {
			return err
		}
		fmt.Fprintf(g.Out, "✔ applied %s\n", objects.Ref(u))
	}
	deadline := time.Now().Add(o.timeout)
	for _, u := range us {
		k := objects.KindByGVK(u.GroupVersionKind())
		if k == nil {
			continue // a Secret or a tenant's object: nothing reports Ready
		}
		w := &readyWaiter{c: c, out: g.Out, timeout: o.timeout, deadline: deadline}
		if err := w.wait(ctx, k, u.GetNamespace(), u.GetName()); err != nil {
			return err
		}
	}
	return nil
}

// applyObject applies u with server-side apply as weir, taking over fields others set.
func applyObject(ctx context.Context, c client.Client, u *unstructured.Unstructured) error {
	err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u.DeepCopy()), client.FieldOwner(createOwner), client.ForceOwnership)
	if err != nil {
		return fmt.Errorf("applying %s: %w", objects.Ref(u), apiError(err))
	}
	return nil
}

// readyWaiter waits until an object's controller decided Ready for its generation.
type readyWaiter struct {
	c        client.Client
	out      io.Writer
	timeout  time.Duration
	deadline time.Time
	// poll is the interval between reads; 500ms when zero.
	poll time.Duration
}

// wait polls the object, printing each change of a condition, until Ready is decided for
// the object's generation. It returns an ExitError when the object is not Ready or the
// deadline passes.
func (w *readyWaiter) wait(ctx context.Context, k *objects.Kind, namespace, name string) error {
	ref := fmt.Sprintf("%s %s/%s", k.Kind, namespace, name)
	fmt.Fprintf(w.out, "◎ waiting for %s to reconcile %s\n", objects.ControllerOf(k), ref)
	interval := w.poll
	if interval == 0 {
		interval = 500 * time.Millisecond
	}
	seen := map[string]string{}
	var u *unstructured.Unstructured
	for {
		fresh := k.New()
		if err := w.c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, fresh); err != nil {
			return apiError(err)
		}
		u = fresh
		printConditionChanges(w.out, seen, objects.Conditions(u))
		if done, ok := objects.Decided(u); done {
			c := objects.ReadyCondition(u)
			if ok {
				fmt.Fprintf(w.out, "✔ %s is Ready: %s\n", ref, c.Message)
				if rev := k.Revision(u); rev != "" {
					fmt.Fprintf(w.out, "  revision %s\n", rev)
				}
				return nil
			}
			fmt.Fprintf(w.out, "✗ %s is not Ready\n", ref)
			return &ExitError{Code: 1, Err: fmt.Errorf("%s: %s: %s", ref, c.Reason, c.Message)}
		}
		if c := failedAttempt(u); c != nil {
			fmt.Fprintf(w.out, "✗ %s is not Ready; %s retries it\n", ref, objects.ControllerOf(k))
			return &ExitError{Code: 1, Err: fmt.Errorf("%s: %s: %s", ref, c.Reason, c.Message)}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Until(w.deadline)):
			if objects.ObservedGeneration(u) < 1 && len(objects.Conditions(u)) == 0 {
				return &ExitError{Code: 1, Err: fmt.Errorf("timed out after %s: %s did not reconcile %s; is it running? (see `weir check`)", w.timeout, objects.ControllerOf(k), ref)}
			}
			state := "no Ready condition"
			if c := objects.ReadyCondition(u); c != nil {
				state = fmt.Sprintf("Ready=%s %s: %s", c.Status, c.Reason, c.Message)
			}
			return &ExitError{Code: 1, Err: fmt.Errorf("timed out after %s waiting for %s: %s", w.timeout, ref, state)}
		case <-time.After(interval):
		}
	}
}

// failedAttempt returns the Ready condition of an object whose controller tried its current
// generation, failed and retries (kstatus calls that in progress): a user who just created it
// wants the failure now, not after the timeout. nil otherwise.
func failedAttempt(u *unstructured.Unstructured) *metav1.Condition {
	conds := objects.Conditions(u)
	ready := apimeta.FindStatusCondition(conds, meta.ReadyCondition)
	retrying := apimeta.FindStatusCondition(conds, meta.ReconcilingCondition)
	if ready == nil || ready.Status != metav1.ConditionFalse || ready.ObservedGeneration != u.GetGeneration() {
		return nil
	}
	if retrying == nil || retrying.Status != metav1.ConditionTrue || retrying.Reason != meta.ProgressingWithRetryReason {
		return nil
	}
	return ready
}

// printConditionChanges prints one line for each condition whose status, reason or message
// differs from seen, and records it there.
func printConditionChanges(out io.Writer, seen map[string]string, conds []metav1.Condition) {
	sort.SliceStable(conds, func(i, j int) bool { return conds[i].Type < conds[j].Type })
	for _, c := range conds {
		line := fmt.Sprintf("%s=%s %s", c.Type, c.Status, c.Reason)
		if c.Message != "" {
			line += ": " + objects.Shorten(c.Message, 200)
		}
		if seen[c.Type] == line {
			continue
		}
		seen[c.Type] = line
		fmt.Fprintf(out, "  ◎ %s\n", line)
	}
}

// oneName is the Args of a create subcommand: the object's name.
func oneName(what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return fmt.Errorf("give the %s's name: %s", what, strings.TrimSpace(cmd.UseLine()))
		}
		return nil
	}
}
