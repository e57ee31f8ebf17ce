package cmd

import (
	"github.com/spf13/cobra"

	"weir.dev/cli/internal/manifest"
)

// The Secrets' values are printed only with --export, which is what it is for; applying one
// prints its name alone.

func newCreateSecretGitCmd(g *Globals, o *createOptions) *cobra.Command {
	s := &manifest.GitSecret{}
	cmd := &cobra.Command{
		Use:   "git <name> --url URL (--username U --password P | --bearer-token T | --private-key-file F --ssh-known-hosts F)",
		Short: "Create a Secret for a GitRepository's spec.secretRef",
		Example: `  # HTTPS with a personal access token
  weir create secret git app-auth --url https://github.com/acme/app --username git --password "$TOKEN"

  # SSH with a deploy key; known_hosts from ssh-keyscan
  ssh-keyscan github.com > known_hosts
  weir create secret git app-ssh --url ssh://git@github.com/acme/app --private-key-file ./id_ed25519 --ssh-known-hosts known_hosts`,
		Args: oneName("Secret"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s.Meta = o.meta(g, args[0])
			return o.run(cmd.Context(), g, s)
		},
	}
	f := cmd.Flags()
	f.StringVar(&s.URL, "url", "", "the repository's URL: ssh:// takes a key, https:// the other credentials")
	f.StringVar(&s.Username, "username", "", "basic auth username")
	f.StringVar(&s.Password, "password", "", "basic auth password, or the private key's passphrase")
	f.StringVar(&s.BearerToken, "bearer-token", "", "a bearer token")
	f.StringVar(&s.CAFile, "ca-file", "", "a PEM CA bundle to verify the server")
	f.StringVar(&s.PrivateKeyFile, "private-key-file", "", "a PEM private key")
	f.StringVar(&s.KnownHostsFile, "ssh-known-hosts", "", "a known_hosts file with the server's host key")
	return cmd
}

func newCreateSecretHelmCmd(g *Globals, o *createOptions) *cobra.Command {
	s := &manifest.HelmSecret{}
	cmd := &cobra.Command{
		Use:     "helm <name> [--username U --password P] [--cert-file F --key-file F] [--ca-file F]",
		Short:   "Create a Secret for a HelmRepository's spec.secretRef or spec.certSecretRef",
		Example: `  weir create secret helm charts-auth --username reader --password "$PASSWORD" --ca-file ./ca.pem`,
		Args:    oneName("Secret"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s.Meta = o.meta(g, args[0])
			return o.run(cmd.Context(), g, s)
		},
	}
	f := cmd.Flags()
	f.StringVar(&s.Username, "username", "", "basic auth username")
	f.StringVar(&s.Password, "password", "", "basic auth password")
	addTLSFlags(cmd, &s.CertFile, &s.KeyFile, &s.CAFile)
	return cmd
}

func newCreateSecretOCICmd(g *Globals, o *createOptions) *cobra.Command {
	s := &manifest.OCISecret{}
	cmd := &cobra.Command{
		Use:     "oci <name> --url REGISTRY --username U --password P",
		Short:   "Create a kubernetes.io/dockerconfigjson Secret for an OCIRepository or a HelmRepository of type oci",
		Example: `  weir create secret oci regcred --url ghcr.io --username bot --password "$GHCR_TOKEN"`,
		Args:    oneName("Secret"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s.Meta = o.meta(g, args[0])
			return o.run(cmd.Context(), g, s)
		},
	}
	f := cmd.Flags()
	f.StringVar(&s.URL, "url", "", "the registry's host, or an oci:// URL on it")
	f.StringVar(&s.Username, "username", "", "the registry username")
	f.StringVar(&s.Password, "password", "", "the registry password or token")
	return cmd
}

func newCreateSecretTLSCmd(g *Globals, o *createOptions) *cobra.Command {
	s := &manifest.TLSSecret{}
	cmd := &cobra.Command{
		Use:     "tls <name> [--cert-file F --key-file F] [--ca-file F]",
		Short:   "Create a Secret with a client certificate and/or a CA bundle (certSecretRef)",
		Example: `  weir create secret tls registry-tls --cert-file ./client.crt --key-file ./client.key --ca-file ./ca.crt`,
		Args:    oneName("Secret"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s.Meta = o.meta(g, args[0])
			return o.run(cmd.Context(), g, s)
		},
	}
	addTLSFlags(cmd, &s.CertFile, &s.KeyFile, &s.CAFile)
	return cmd
}

func addTLSFlags(cmd *cobra.Command, cert, key, ca *string) {
	cmd.Flags().StringVar(cert, "cert-file", "", "a PEM client certificate (tls.crt)")
	cmd.Flags().StringVar(key, "key-file", "", "the PEM private key of --cert-file (tls.key)")
	cmd.Flags().StringVar(ca, "ca-file", "", "a PEM CA bundle to verify the server (ca.crt)")
}
