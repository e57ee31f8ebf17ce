package cmd

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/spf13/cobra"

	"weir.dev/cli/internal/ui"
)

func init() { register(newUICmd) }

func newUICmd(g *Globals) *cobra.Command {
	var port int
	var open, readOnly bool
	cmd := &cobra.Command{
		Use:   "ui",
		Short: "Serve Weir's web UI on 127.0.0.1, with your own Kubernetes rights",
		Long: "ui serves a web UI of the Weir objects in the cluster of your kubeconfig: what is failing\n" +
			"first, every object with its source chain, events, history, drift and inventory, and\n" +
			"reconcile, suspend and resume buttons. It talks to the cluster as you, so it shows and\n" +
			"does exactly what your Kubernetes RBAC allows: a forbidden namespace is reported and a\n" +
			"forbidden action disabled. It listens on 127.0.0.1 only and never reads Secrets.\n" +
			"Pages update live from watches. Each action taken is printed. It runs until Ctrl-C.",
		Example: `  # Serve on a free port and print its address
  weir ui

  # A fixed port, opened in the default browser
  weir ui --port 8080 --open

  # Look, but do not touch
  weir ui --read-only`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.RESTConfig()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			raw, _ := g.Kube.ToRawKubeConfigLoader().RawConfig()
			current := raw.CurrentContext
			if g.Kube.Context != nil && *g.Kube.Context != "" {
				current = *g.Kube.Context
			}
			s, err := ui.New(ctx, ui.Options{Config: cfg, Namespaces: []string{g.Namespace()}, Context: current, ReadOnly: readOnly, Log: g.Out})
			if err != nil {
				return fmt.Errorf("starting the UI: %w", apiError(err))
			}
			l, err := s.Listen(port)
			if err != nil {
				return fmt.Errorf("listening on 127.0.0.1:%d: %w", port, err)
			}
			fmt.Fprintf(g.Out, "Weir UI: %s\n(Ctrl-C to stop)\n", s.URL())
			if open {
				if err := openBrowser(s.URL()); err != nil {
					fmt.Fprintf(g.Err, "could not open a browser (%v); open the address above\n", err)
				}
			}
			return s.Serve(ctx, l)
		},
	}
	cmd.Flags().IntVar(&port, "port", 0, "port to listen on at 127.0.0.1 (0: a free one)")
	cmd.Flags().BoolVar(&open, "open", false, "open the UI in the default browser")
	cmd.Flags().BoolVar(&readOnly, "read-only", false, "disable reconcile, suspend and resume, whatever your RBAC allows")
	return cmd
}

// openBrowser opens url with the desktop's opener.
func openBrowser(url string) error {
	name := "xdg-open"
	if runtime.GOOS == "darwin" {
		name = "open"
	}
	return exec.Command(name, url).Start()
}
