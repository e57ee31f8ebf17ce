// Package cmd holds the weir commands. Each command file registers its constructor with
// register in an init function, so commands are added without touching this file.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/pkg/scheme"
)

// Globals are the flags every command shares.
type Globals struct {
	// Kube holds --kubeconfig, --context, --namespace and the other kubectl connection flags.
	Kube *genericclioptions.ConfigFlags
	Out  io.Writer
	Err  io.Writer
}

// constructors are the top-level commands, registered by their files' init functions.
var constructors []func(*Globals) *cobra.Command

// register adds a top-level command.
func register(c func(*Globals) *cobra.Command) { constructors = append(constructors, c) }

// NewRoot returns the weir command with every registered subcommand.
func NewRoot(out, errOut io.Writer) *cobra.Command {
	g := &Globals{Kube: genericclioptions.NewConfigFlags(true), Out: out, Err: errOut}
	root := &cobra.Command{
		Use:           "weir",
		Short:         "Operate Weir, GitOps for Kubernetes",
		Long:          "weir shows and drives Weir's GitOps objects in the cluster of your kubeconfig,\nand runs Weir on an embedded local control plane.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(out)
	root.SetErr(errOut)
	g.Kube.AddFlags(root.PersistentFlags())
	for _, c := range constructors {
		root.AddCommand(c(g))
	}
	return root
}

// Execute runs weir with args and returns the process exit code: 0 on success, 1 on failure.
// A command may choose another code by returning an ExitError.
func Execute(args []string, out, errOut io.Writer) int {
	return ExecuteContext(context.Background(), args, out, errOut)
}

// ExecuteContext is Execute with a context that ends long-running commands (`weir ui`,
// `weir local up`, `weir get --watch`) as Ctrl-C does.
func ExecuteContext(ctx context.Context, args []string, out, errOut io.Writer) int {
	root := NewRoot(out, errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var exit *ExitError
	if errors.As(err, &exit) {
		if exit.Err != nil {
			fmt.Fprintln(errOut, "Error:", exit.Err)
		}
		return exit.Code
	}
	fmt.Fprintln(errOut, "Error:", err)
	return 1
}

// ExitError ends weir with Code, printing Err when it is set.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

// RESTConfig returns the REST config of the kubeconfig flags, with a helpful error when there
// is no cluster to talk to.
func (g *Globals) RESTConfig() (*rest.Config, error) {
	cfg, err := g.Kube.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("no cluster to talk to: %w (set --kubeconfig or KUBECONFIG, or start one with `weir local up`)", err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	return cfg, nil
}

// Client returns a direct client for the built-in kinds and every Weir kind.
func (g *Globals) Client() (client.Client, error) {
	cfg, err := g.RESTConfig()
	if err != nil {
		return nil, err
	}
	return client.New(cfg, client.Options{Scheme: Scheme()})
}

// Namespace returns --namespace, or the kubeconfig context's namespace, or "default".
func (g *Globals) Namespace() string {
	ns, _, err := g.Kube.ToRawKubeConfigLoader().Namespace()
	if err != nil || ns == "" {
		return "default"
	}
	return ns
}

// Scheme knows the built-in kinds, apiextensions and every Weir kind.
func Scheme() *runtime.Scheme { return scheme.New() }
