package cmd

import (
	"strings"

	"github.com/spf13/cobra"

	notificationv1 "weir.dev/api/notification/v1"
	"weir.dev/cli/internal/manifest"
)

func newCreateProviderCmd(g *Globals, o *createOptions) *cobra.Command {
	p := &manifest.Provider{}
	cmd := &cobra.Command{
		Use:   "alert-provider <name> --type TYPE (--address URL | --secret-ref S)",
		Short: "Create a notification Provider",
		Example: `  # Slack, with the webhook URL kept in the Secret slack-url (key: address)
  weir create alert-provider slack --type slack --channel ops --secret-ref slack-url

  # Any HTTP endpoint
  weir create alert-provider hook --type generic --address https://hooks.acme.dev/weir`,
		Args: oneName("Provider"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p.Meta = o.meta(g, args[0])
			return o.run(cmd.Context(), g, p)
		},
	}
	f := cmd.Flags()
	f.StringVar(&p.Type, "type", "", "one of "+strings.Join(notificationv1.ProviderTypes, ", "))
	f.StringVar(&p.Channel, "channel", "", "the channel to post to (the chat ID for telegram, the room ID for webex and matrix)")
	f.StringVar(&p.Username, "username", "", "the name to post as")
	f.StringVar(&p.Address, "address", "", "the webhook or API URL; for commit-status types the repository's URL")
	f.StringVar(&p.SecretRef, "secret-ref", "", "a Secret with any of address, token, username, password, headers")
	f.StringVar(&p.CertSecretRef, "cert-secret-ref", "", "a Secret with ca.crt (and tls.crt, tls.key)")
	return cmd
}

func newCreateAlertCmd(g *Globals, o *createOptions) *cobra.Command {
	a := &manifest.Alert{}
	cmd := &cobra.Command{
		Use:   "alert <name> --provider-ref P --event-source Kind/NAME[.NS]",
		Short: "Create an Alert",
		Example: `  # Failures of every Kustomization and HelmRelease in this namespace, to Slack
  weir create alert ops --provider-ref slack --event-severity error \
    --event-source 'Kustomization/*' --event-source 'HelmRelease/*'`,
		Args: oneName("Alert"),
		RunE: func(cmd *cobra.Command, args []string) error {
			a.Meta = o.meta(g, args[0])
			return o.run(cmd.Context(), g, a)
		},
	}
	f := cmd.Flags()
	f.StringVar(&a.ProviderRef, "provider-ref", "", "the Provider, in this namespace, to send to")
	f.StringArrayVar(&a.EventSources, "event-source", nil, "objects whose events to send: Kind/name[.namespace], name * for all (repeatable)")
	f.StringVar(&a.EventSeverity, "event-severity", "", "the lowest severity sent: info (every event, the default) or error")
	f.StringVar(&a.Summary, "summary", "", "a short description added to every event")
	return cmd
}

func newCreateReceiverCmd(g *Globals, o *createOptions) *cobra.Command {
	r := &manifest.Receiver{}
	cmd := &cobra.Command{
		Use:   "receiver <name> --type TYPE --resource Kind/NAME[.NS] --secret-ref S",
		Short: "Create a Receiver for incoming webhooks",
		Example: `  # GitHub pushes reconcile the GitRepository app at once; the Secret's token is the
  # webhook's secret in GitHub
  kubectl create secret generic github-token --from-literal=token=$(openssl rand -hex 16)
  weir create receiver github --type github --event push --resource GitRepository/app --secret-ref github-token`,
		Args: oneName("Receiver"),
		RunE: func(cmd *cobra.Command, args []string) error {
			r.Meta = o.meta(g, args[0])
			return o.run(cmd.Context(), g, r)
		},
	}
	f := cmd.Flags()
	f.StringVar(&r.Type, "type", "", "one of "+strings.Join(notificationv1.ReceiverTypes, ", "))
	f.StringSliceVar(&r.Events, "event", nil, "the sender's event types to act on, e.g. push (default: all), comma-separated")
	f.StringArrayVar(&r.Resources, "resource", nil, "an object to reconcile: Kind/name[.namespace] (repeatable)")
	f.StringVar(&r.SecretRef, "secret-ref", "", "the Secret whose token authenticates the sender")
	return cmd
}
