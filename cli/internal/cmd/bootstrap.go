package cmd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"weir.dev/cli/internal/bootstrap"
	"weir.dev/cli/internal/install"
	"weir.dev/deploy"
)

func init() { register(newBootstrapCmd) }

func newBootstrapCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Install Weir so that it manages itself from a repository",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newBootstrapGitCmd(g))
	return cmd
}

// bootstrapFlags are the flags of `weir bootstrap git`, as given.
type bootstrapFlags struct {
	url, branch, path          string
	username, passwordFile     string
	privateKeyFile, knownHosts string
	authorName, authorEmail    string
	install                    install.Options
	force, waitForControllers  bool
	timeout                    time.Duration
}

func newBootstrapGitCmd(g *Globals) *cobra.Command {
	var f bootstrapFlags
	cmd := &cobra.Command{
		Use:   "git",
		Short: "Commit Weir's manifests to a Git repository, install them and let Weir sync itself from it",
		Long: "bootstrap git writes Weir's manifests (pinned to one version) and a GitRepository and a\n" +
			"Kustomization for --path into the repository, under <path>/weir-system/, commits and pushes\n" +
			"them, installs them, stores the Git credentials in the Secret weir-system (never in Git),\n" +
			"and waits until the Kustomization weir-system has applied the pushed commit: from then on\n" +
			"Weir reconciles itself, and everything else under --path, from Git.\n\n" +
			"Run it again to check: it commits nothing when nothing changed. With another --version it\n" +
			"commits the upgrade and Weir upgrades itself from Git. Change the controllers with patches\n" +
			"in <path>/weir-system/kustomization.yaml: bootstrap keeps that file.\n\n" +
			"It refuses a path holding files it did not write, and a cluster running another Weir\n" +
			"version that it did not bootstrap (unless --force).\n\n" +
			"Credentials: for http(s), --username and --password-file (or $" + bootstrap.PasswordEnv + ");\n" +
			"for ssh://, --private-key-file (its passphrase in $" + bootstrap.PassphraseEnv + ") and\n" +
			"--ssh-known-hosts-file, which must hold the server's host key.",
		Example: `  # Over HTTPS with a token
  WEIR_GIT_PASSWORD=$TOKEN weir bootstrap git --url https://github.com/acme/fleet.git \
    --username git --branch main --path clusters/prod --registry ghcr.io/acme/weir --version v0.1.0

  # Over SSH with a deploy key
  weir bootstrap git --url ssh://git@github.com/acme/fleet.git --branch main --path clusters/prod \
    --private-key-file ./deploy-key --ssh-known-hosts-file ~/.ssh/known_hosts --version v0.1.0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := f.bootstrapper(g, cmd)
			if err != nil {
				return err
			}
			c, err := g.Client()
			if err != nil {
				return err
			}
			b.c = c
			return b.run(cmd.Context())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.url, "url", "", "the repository's URL: http(s)://host/org/repo.git or ssh://git@host/org/repo.git (required)")
	fl.StringVar(&f.branch, "branch", "main", "the branch to commit to and sync from")
	fl.StringVar(&f.path, "path", "", "the cluster's folder in the repository, e.g. clusters/prod (required)")
	fl.StringVar(&f.username, "username", "", "the user for HTTP basic auth (default git when a password is given)")
	fl.StringVar(&f.passwordFile, "password-file", "", "a file holding the password or token for HTTP basic auth (or set $"+bootstrap.PasswordEnv+")")
	fl.StringVar(&f.privateKeyFile, "private-key-file", "", "the PEM private key for an ssh:// URL")
	fl.StringVar(&f.knownHosts, "ssh-known-hosts-file", defaultKnownHosts(), "known_hosts holding the ssh server's host key; unknown hosts are refused")
	fl.StringVar(&f.authorName, "author-name", "Weir", "the commits' author name")
	fl.StringVar(&f.authorEmail, "author-email", "weir@weir.dev", "the commits' author email")
	fl.StringVar(&f.install.Registry, "registry", "", "the registry and repository prefix of the images, e.g. ghcr.io/acme/weir (default: deploy/'s weir/<controller>)")
	fl.StringVar(&f.install.Version, "version", "", "the version to pin: the images' tag (default: this weir's release version, else deploy/'s dev)")
	fl.StringSliceVar(&f.install.Components, "components", nil, "optional components of deploy/components to include: "+strings.Join(deploy.Components, ", "))
	fl.BoolVar(&f.force, "force", false, "bootstrap over a Weir of another version that this command did not install, and apply everything again")
	fl.BoolVar(&f.waitForControllers, "wait-for-controllers", true, "after the sync, wait until the controllers' Deployments are rolled out (off where the controllers run elsewhere, e.g. `weir local`)")
	fl.DurationVar(&f.timeout, "timeout", 5*time.Minute, "how long to wait for the CRDs, the sync and the controllers, each")
	_ = cmd.MarkFlagRequired("url")
	_ = cmd.MarkFlagRequired("path")
	return cmd
}

func defaultKnownHosts() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".ssh", "known_hosts")
}

// bootstrapper checks the flags and reads the credentials they name.
func (f *bootstrapFlags) bootstrapper(g *Globals, cmd *cobra.Command) (*bootstrapper, error) {
	u, err := bootstrap.ParseURL(f.url)
	if err != nil {
		return nil, err
	}
	path, err := bootstrap.CleanPath(f.path)
	if err != nil {
		return nil, err
	}
	if f.branch == "" || strings.ContainsAny(f.branch, " ~^:?*[\\") || strings.HasPrefix(f.branch, "-") {
		return nil, fmt.Errorf("--branch %q: not a branch name", f.branch)
	}
	o := f.install
	o.Namespace = install.DefaultNamespace
	if cmd.Flags().Changed("namespace") {
		o.Namespace = *g.Kube.Namespace
	}
	if !cmd.Flags().Changed("version") && o.Version == "" {
		o.Version = releaseVersion()
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	creds := &bootstrap.Credentials{Username: f.username}
	switch {
	case f.passwordFile != "":
		b, err := os.ReadFile(f.passwordFile)
		if err != nil {
			return nil, fmt.Errorf("--password-file: %w", err)
		}
		creds.Password = strings.TrimRight(string(b), "\r\n")
		if creds.Password == "" {
			return nil, fmt.Errorf("--password-file %s is empty", f.passwordFile)
		}
	case os.Getenv(bootstrap.PasswordEnv) != "":
		creds.Password = os.Getenv(bootstrap.PasswordEnv)
	}
	if f.privateKeyFile != "" {
		if creds.Identity, err = os.ReadFile(f.privateKeyFile); err != nil {
			return nil, fmt.Errorf("--private-key-file: %w", err)
		}
		creds.Passphrase = []byte(os.Getenv(bootstrap.PassphraseEnv))
		creds.KnownHostsFile = f.knownHosts
	}
	if err := creds.Validate(u); err != nil {
		return nil, err
	}
	if f.authorName == "" || f.authorEmail == "" {
		return nil, errors.New("--author-name and --author-email may not be empty")
	}
	b := &bootstrapper{
		g: g, u: u, creds: creds, force: f.force, waitForControllers: f.waitForControllers, timeout: f.timeout,
		author: bootstrap.Signature{Name: f.authorName, Email: f.authorEmail},
		layout: bootstrap.Layout{Path: path, URL: u.String(), Branch: f.branch, Install: o},
	}
	if creds.Username != "" || creds.Password != "" || len(creds.Identity) > 0 {
		b.layout.SecretName = bootstrap.SyncName
	}
	return b, nil
}
