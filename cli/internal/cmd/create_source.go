package cmd

import (
	"time"

	"github.com/spf13/cobra"

	"weir.dev/cli/internal/manifest"
)

func newCreateSourceGitCmd(g *Globals, o *createOptions) *cobra.Command {
	s := &manifest.GitSource{}
	cmd := &cobra.Command{
		Use:   "git <name> --url URL [--branch B | --tag T | --semver R | --commit SHA]",
		Short: "Create a GitRepository",
		Long: "source git creates a GitRepository. With --username/--password, --bearer-token,\n" +
			"--ca-file or --private-key-file (ssh:// URLs, with --ssh-known-hosts) it also creates the\n" +
			"Secret with those credentials, named --secret-ref or else like the GitRepository.",
		Example: `  # A public repository's main branch
  weir create source git podinfo --url https://github.com/stefanprodan/podinfo --branch master

  # Over SSH with a deploy key; the Secret "app" holds the key and the host key
  weir create source git app --url ssh://git@github.com/acme/app --branch main \
    --private-key-file ./deploy-key --ssh-known-hosts ./known_hosts

  # The newest tag matching a range, checked every 10 minutes
  weir create source git app --url https://github.com/acme/app --semver ">=1.0.0 <2.0.0" --interval 10m`,
		Args: oneName("GitRepository"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s.Meta = o.meta(g, args[0])
			return o.run(cmd.Context(), g, s)
		},
	}
	f := cmd.Flags()
	f.StringVar(&s.URL, "url", "", "the repository's https://, http:// or ssh:// URL")
	f.StringVar(&s.Branch, "branch", "", "the branch to follow (default: the remote's HEAD)")
	f.StringVar(&s.Tag, "tag", "", "the tag to check out")
	f.StringVar(&s.SemVer, "semver", "", "a SemVer range: the newest tag in it is checked out")
	f.StringVar(&s.Commit, "commit", "", "the commit SHA to check out (with --branch: on that branch)")
	f.StringVar(&s.RefName, "ref-name", "", "a Git reference to check out, e.g. refs/pull/1/head")
	f.StringVar(&s.SecretRef, "secret-ref", "", "the Secret with credentials; with credential flags, the Secret to create")
	f.StringVar(&s.Auth.Username, "username", "", "basic auth username (https)")
	f.StringVar(&s.Auth.Password, "password", "", "basic auth password (https), or the private key's passphrase (ssh)")
	f.StringVar(&s.Auth.BearerToken, "bearer-token", "", "a bearer token (https)")
	f.StringVar(&s.Auth.CAFile, "ca-file", "", "a PEM CA bundle to verify the server (https)")
	f.StringVar(&s.Auth.PrivateKeyFile, "private-key-file", "", "a PEM private key (ssh)")
	f.StringVar(&s.Auth.KnownHostsFile, "ssh-known-hosts", "", "a known_hosts file with the server's host key (ssh)")
	f.StringSliceVar(&s.IgnorePaths, "ignore-paths", nil, "gitignore patterns of paths to leave out of the artifact, comma-separated")
	f.BoolVar(&s.RecurseSubmodules, "recurse-submodules", false, "check out submodules too")
	f.DurationVar(&s.Interval, "interval", time.Minute, "how often to check the repository")
	return cmd
}

func newCreateSourceOCICmd(g *Globals, o *createOptions) *cobra.Command {
	s := &manifest.OCISource{}
	cmd := &cobra.Command{
		Use:   "oci <name> --url oci://REPO (--tag T | --semver R | --digest D)",
		Short: "Create an OCIRepository",
		Example: `  # Manifests pushed as an OCI artifact, following a tag
  weir create source oci app --url oci://ghcr.io/acme/manifests/app --tag latest

  # From a private registry, with the Secret of 'weir create secret oci'
  weir create source oci app --url oci://registry.acme.dev/app --semver "1.x" --secret-ref regcred`,
		Args: oneName("OCIRepository"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s.Meta = o.meta(g, args[0])
			return o.run(cmd.Context(), g, s)
		},
	}
	f := cmd.Flags()
	f.StringVar(&s.URL, "url", "", "the artifact's repository, oci://host/path, without tag or digest")
	f.StringVar(&s.Tag, "tag", "", "the tag to pull")
	f.StringVar(&s.SemVer, "semver", "", "a SemVer range: the newest tag in it is pulled")
	f.StringVar(&s.Digest, "digest", "", "the digest to pull, sha256:<hex>")
	f.StringVar(&s.SecretRef, "secret-ref", "", "a kubernetes.io/dockerconfigjson Secret with the registry's credentials")
	f.StringVar(&s.Provider, "provider", "", "cloud workload identity for the registry: generic, aws, azure or gcp")
	f.BoolVar(&s.Insecure, "insecure", false, "talk plain HTTP to the registry")
	f.DurationVar(&s.Interval, "interval", time.Minute, "how often to check the registry")
	return cmd
}

func newCreateSourceHelmCmd(g *Globals, o *createOptions) *cobra.Command {
	s := &manifest.HelmSource{}
	cmd := &cobra.Command{
		Use:   "helm <name> --url URL [--oci]",
		Short: "Create a HelmRepository",
		Example: `  # A chart repository serving index.yaml
  weir create source helm podinfo --url https://stefanprodan.github.io/podinfo

  # Charts in an OCI registry
  weir create source helm podinfo --url oci://ghcr.io/stefanprodan/charts --oci`,
		Args: oneName("HelmRepository"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s.Meta = o.meta(g, args[0])
			return o.run(cmd.Context(), g, s)
		},
	}
	f := cmd.Flags()
	f.StringVar(&s.URL, "url", "", "the repository's https:// URL (where index.yaml is), or oci:// URL with --oci")
	f.BoolVar(&s.OCI, "oci", false, "the repository is an OCI registry (type oci)")
	f.StringVar(&s.SecretRef, "secret-ref", "", "a Secret with username and password (see 'weir create secret helm')")
	f.StringVar(&s.CertSecretRef, "cert-secret-ref", "", "a Secret with tls.crt, tls.key and/or ca.crt")
	f.BoolVar(&s.PassCredentials, "pass-credentials", false, "send the credentials to chart hosts other than the repository's")
	f.BoolVar(&s.Insecure, "insecure", false, "talk plain HTTP to an OCI registry")
	f.DurationVar(&s.Interval, "interval", time.Minute, "how often to fetch the index")
	return cmd
}
