package cmd

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"weir.dev/cli/internal/local"
)

func init() { register(newLocalCmd) }

func newLocalCmd(g *Globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "local",
		Short: "Run Weir on an embedded local control plane",
		Long: "weir local runs the real etcd and kube-apiserver, Weir's CRDs and the four controllers as\n" +
			"separate processes on this machine, with a demo of Git, Kustomizations and notifications.",
	}
	c.AddCommand(newLocalUpCmd(g), newLocalDownCmd(g))
	return c
}

func newLocalUpCmd(g *Globals) *cobra.Command {
	opts := local.Options{Demo: true, BuildCluster: true}
	var noDemo bool
	c := &cobra.Command{
		Use:   "up",
		Short: "Start Weir locally and stay up until Ctrl-C",
		Long: "up builds the controllers (from the checkout it runs in) and what the control plane needs,\n" +
			"starts etcd, kube-apiserver, the four controllers, kube-controller-manager, kube-scheduler\n" +
			"and a kwok simulated node (on a first run these three are built in the background once Weir\n" +
			"is up, and start when built); and, unless\n" +
			"--no-demo, a Git server with a sample app applied by two Kustomizations, a Helm repository\n" +
			"with a chart a HelmRelease installs, a webhook that prints notifications and a Receiver.\n" +
			"It stops everything it started on Ctrl-C or SIGTERM (see `weir local down`) and removes\n" +
			"--dir unless --keep.",
		Example: "  weir local up\n  weir local up --dir /tmp/weir --keep --no-demo",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Demo = !noDemo
			opts.Out = g.Out
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			env, err := local.Up(ctx, opts)
			if err != nil {
				return err
			}
			env.PrintSummary(ctx, g.Out)
			<-ctx.Done()
			fmt.Fprintln(g.Out, "\nStopping the controllers, the API server and etcd…")
			if err := env.Stop(); err != nil {
				return err
			}
			if opts.Keep {
				fmt.Fprintf(g.Out, "Stopped; %s kept.\n", env.Dir)
			} else {
				fmt.Fprintln(g.Out, "Stopped; nothing left behind.")
			}
			return nil
		},
	}
	c.Flags().StringVar(&opts.Dir, "dir", local.DefaultDir(), "The directory for the kubeconfig, logs, artifacts and demo repository.")
	c.Flags().BoolVar(&opts.Keep, "keep", false, "Keep --dir after stopping.")
	c.Flags().BoolVar(&noDemo, "no-demo", false, "Start no demo: no Git server, sample app or notification objects.")
	c.Flags().BoolVar(&opts.Lockdown, "lockdown", false, "Run the controllers as a multi-tenant install does: objects without a ServiceAccount act as their namespace's default one, no cross-namespace references.")
	return c
}

func newLocalDownCmd(g *Globals) *cobra.Command {
	dir := local.DefaultDir()
	c := &cobra.Command{
		Use:     "down",
		Short:   "Stop a `weir local up` running in the background",
		Example: "  weir local up >/tmp/weir-local.out 2>&1 &\n  weir local down",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			pid, err := local.Down(dir, 2*time.Minute)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(g.Out, "Stopped weir local (pid %d) in %s.\n", pid, dir)
			return err
		},
	}
	c.Flags().StringVar(&dir, "dir", dir, "The directory of the `weir local up` to stop.")
	return c
}
