package cmd

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"

	helmv1 "weir.dev/api/helm/v1"
	kustomizev1 "weir.dev/api/kustomize/v1"
	"weir.dev/api/meta"
	"weir.dev/cli/internal/objects"
	"weir.dev/cli/internal/preview"
)

func init() { register(newPlanCmd) }

func newPlanCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "plan <kustomization|helmrelease> <name>",
		Short: "Show the plan of a Kustomization or HelmRelease waiting for approval",
		Long: `plan prints what the controller planned under spec.approval: Manual (status.plan): the
revision, what it creates, changes and deletes, and whether it waits for approval. It then
prints the full diff of that revision against the live cluster, as 'weir diff' does (a
server-side dry run as kustomize- or helm-controller, Secret values masked), from the source's
artifact (for a HelmRelease, its chart rendered with its values). Approve it with 'weir approve'.`,
		Example: `  weir plan kustomization apps -n production
  weir plan helmrelease podinfo -n production`,
		Args:              cobra.ExactArgs(2),
		ValidArgsFunction: completeKindThenName(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := objects.FindKind(args[0])
			if err != nil {
				return err
			}
			if !objects.HasGate(k) {
				return fmt.Errorf("plan needs a Kustomization or a HelmRelease, not a %s", k.Kind)
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
			plan := objects.PlanOf(u)
			if plan == nil {
				return &ExitError{Code: 1, Err: fmt.Errorf("%s has no plan: plans are made under spec.approval: Manual", ref)}
			}
			printPlan(g.Out, ref, plan, objects.PendingPlan(u) != nil)
			if objects.PendingPlan(u) == nil {
				return nil
			}
			if k.Kind == helmv1.HelmReleaseKind {
				return planHelmReleaseDiff(ctx, g, c, u, plan)
			}
			if k.Kind != kustomizev1.KustomizationKind {
				return nil
			}
			ks := &kustomizev1.Kustomization{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, ks); err != nil {
				return err
			}
			sk, sns, sname, err := objects.SourceOf(u)
			if err != nil {
				return err
			}
			src, err := getObject(ctx, c, sk, sns, sname)
			if err != nil {
				return err
			}
			art := &meta.Artifact{}
			if m, ok := src.Object["status"].(map[string]any)["artifact"].(map[string]any); ok {
				if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, art); err != nil {
					return err
				}
			}
			if art.URL == "" {
				return fmt.Errorf("the source %s %s/%s has no artifact", sk.Kind, sns, sname)
			}
			if art.Revision != plan.Revision {
				fmt.Fprintf(g.Out, "! the source is now at revision %s; the controller plans it next. Its diff:\n", art.Revision)
			}
			fmt.Fprintln(g.Out)
			objs, origins, err := preview.BuildArtifact(ctx, c, ks, art)
			if err != nil {
				return err
			}
			_, err = preview.Diff(ctx, c, ks, objs, origins, g.Out)
			return err
		},
	}
}

// printPlan writes the plan's summary and the objects it lists.
func printPlan(w io.Writer, ref string, p *meta.Plan, pending bool) {
	state := "approved with " + meta.ApproveAnnotation + "=" + p.Approval
	if pending {
		state = "waiting for approval: weir approve " + strings.ToLower(strings.SplitN(ref, " ", 2)[0]) + " " + ref[strings.LastIndex(ref, "/")+1:] + " --revision " + p.Revision
	}
	fmt.Fprintf(w, "%s: %s\n  %s\n", ref, objects.PlanSummary(p), state)
	for _, o := range p.Objects {
		fmt.Fprintf(w, "  %-6s %s\n", o.Action, o.ID)
	}
	if n := int(p.Create+p.Change+p.Delete) - len(p.Objects); n > 0 {
		fmt.Fprintf(w, "  and %d more\n", n)
	}
}
