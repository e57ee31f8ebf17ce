package cmd

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"weir.dev/api/meta"
	"weir.dev/cli/internal/objects"
)

func init() { register(newApproveCmd) }

func newApproveCmd(g *Globals) *cobra.Command {
	var (
		revision string
		timeout  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "approve <kustomization|helmrelease> <name>",
		Short: "Approve the plan of a Kustomization or HelmRelease under spec.approval: Manual",
		Long: `approve lets the controller apply the plan waiting for approval (see 'weir plan'): it sets
the annotation ` + meta.ApproveAnnotation + ` to the plan's revision, requests a reconcile and
waits like 'weir reconcile'. --revision names the revision you reviewed: when the plan is for
another one (a new commit arrived meanwhile), nothing is approved and the command fails naming
the current revision. The same can be done with kubectl:

  kubectl annotate --overwrite kustomization apps ` + meta.ApproveAnnotation + `=<revision>`,
		Example: `  # Review, then approve, the plan of production's apps
  weir plan kustomization apps -n production
  weir approve kustomization apps -n production --revision main@sha1:4f2c...`,
		Args:              cobra.ExactArgs(2),
		ValidArgsFunction: completeKindThenName(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := objects.FindKind(args[0])
			if err != nil {
				return err
			}
			if !objects.HasGate(k) {
				return fmt.Errorf("approve needs a Kustomization or a HelmRelease, not a %s", k.Kind)
			}
			c, err := g.Client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			u, err := getObject(ctx, c, k, g.Namespace(), args[1])
			if err != nil {
				return err
			}
			ref := fmt.Sprintf("%s %s/%s", k.Kind, u.GetNamespace(), u.GetName())
			value, err := objects.ApprovalValue(u, revision, time.Now())
			if err != nil {
				return &ExitError{Code: 1, Err: err}
			}
			plan := objects.PendingPlan(u)
			requested, err := objects.Approve(ctx, c, u, value)
			if err != nil {
				return fmt.Errorf("approving %s: %w", ref, apiError(err))
			}
			fmt.Fprintf(g.Out, "► approved %s of %s\n", objects.PlanSummary(plan), ref)
			r := &reconciler{c: c, out: g.Out, timeout: timeout, deadline: time.Now().Add(timeout)}
			_, err = r.wait(ctx, k, u, requested)
			return err
		},
	}
	cmd.Flags().StringVar(&revision, "revision", "", "the revision whose plan you approve; the pending plan's when empty")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "how long to wait for the result")
	return cmd
}
