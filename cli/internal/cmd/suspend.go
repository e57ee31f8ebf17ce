package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/cli/internal/objects"
)

func init() {
	register(newSuspendCmd)
	register(newResumeCmd)
}

func newSuspendCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "suspend <kind> <name>",
		Short: "Stop reconciling a Weir object until it is resumed",
		Long:  "suspend sets spec.suspend, so that the object's controller leaves it (and what it applied)\nas it is until `weir resume`. Kinds: " + objects.KindNames() + ".",
		Example: `  # Freeze a Kustomization during an incident
  weir suspend kustomization apps -n production`,
		Args:              cobra.ExactArgs(2),
		ValidArgsFunction: completeKindThenName(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, u, _, err := setSuspend(cmd.Context(), g, args, true)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.Out, "✔ suspended %s %s/%s\n", k.Kind, u.GetNamespace(), u.GetName())
			return nil
		},
	}
}

func newResumeCmd(g *Globals) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "resume <kind> <name>",
		Short: "Resume reconciling a suspended Weir object, and wait for the result",
		Long: "resume clears spec.suspend, requests a reconcile and waits for it like `weir reconcile`:\n" +
			"it exits 0 when the object is Ready, 1 with the reason otherwise. Kinds: " + objects.KindNames() + ".",
		Example: `  # Resume a Kustomization and wait until it is applied again
  weir resume kustomization apps -n production --timeout 2m`,
		Args:              cobra.ExactArgs(2),
		ValidArgsFunction: completeKindThenName(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, u, c, err := setSuspend(cmd.Context(), g, args, false)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.Out, "► resumed %s %s/%s\n", k.Kind, u.GetNamespace(), u.GetName())
			r := &reconciler{c: c, out: g.Out, timeout: timeout, deadline: time.Now().Add(timeout)}
			_, err = r.reconcile(cmd.Context(), k, u.GetNamespace(), u.GetName())
			return err
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "how long to wait for the result")
	return cmd
}

// setSuspend finds the object args name and sets its spec.suspend.
func setSuspend(ctx context.Context, g *Globals, args []string, suspend bool) (*objects.Kind, client.Object, client.Client, error) {
	k, err := objects.FindKind(args[0])
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := g.Client()
	if err != nil {
		return nil, nil, nil, err
	}
	u, err := getObject(ctx, c, k, g.Namespace(), args[1])
	if err != nil {
		return nil, nil, nil, err
	}
	if objects.IsSuspended(u) == suspend {
		state := "is not suspended"
		if suspend {
			state = "is already suspended"
		}
		fmt.Fprintf(g.Err, "%s %s/%s %s\n", k.Kind, u.GetNamespace(), u.GetName(), state)
	}
	if err := objects.SetSuspend(ctx, c, u, suspend); err != nil {
		return nil, nil, nil, fmt.Errorf("patching %s %s/%s: %w", k.Kind, u.GetNamespace(), u.GetName(), apiError(err))
	}
	return k, u, c, nil
}
