package app

import (
	"errors"
	"fmt"
	"os"

	runtimectrl "github.com/fluxcd/pkg/runtime/controller"
	"github.com/spf13/pflag"
	ctrl "sigs.k8s.io/controller-runtime"

	"weir.dev/pkg/identity"
	"weir.dev/pkg/steps"
)

// ApplierOptions are the flags of the controllers that apply artifacts to a cluster on their
// objects' behalf (kustomize-controller, helm-controller): where artifacts come from, whom to
// act as, and which references to refuse.
type ApplierOptions struct {
	// ArtifactHost is the host[:port] artifacts are fetched from (--artifact-host).
	ArtifactHost string
	// NoCrossNamespaceRefs refuses sources and dependencies in other namespaces.
	NoCrossNamespaceRefs bool
	// DefaultServiceAccount is impersonated when an object names none.
	DefaultServiceAccount string
	// InsecureKubeConfigExec permits exec and auth-provider plugins in spec.kubeConfig.
	InsecureKubeConfigExec bool
	// Retry bounds the backoff of transient failures (--min-retry-delay, --max-retry-delay):
	// an object's retries start at the minimum and double up to the maximum, and never wait
	// longer than the object's own retry interval.
	Retry runtimectrl.RateLimiterOptions
}

// BindFlags registers the flags; kind names the controller's kind in their help.
func (o *ApplierOptions) BindFlags(fs *pflag.FlagSet, kind string) {
	fs.StringVar(&o.ArtifactHost, "artifact-host", "", "The host[:port] artifacts are fetched from: source-controller's --storage-adv-addr. Defaults to source-controller.$RUNTIME_NAMESPACE.svc.cluster.local.")
	fs.BoolVar(&o.NoCrossNamespaceRefs, "no-cross-namespace-refs", false, fmt.Sprintf("Refuse sources and dependencies in another namespace than the %s's.", kind))
	fs.StringVar(&o.DefaultServiceAccount, "default-service-account", "", fmt.Sprintf("The ServiceAccount, in each %s's namespace, to impersonate when spec.serviceAccountName is empty.", kind))
	fs.BoolVar(&o.InsecureKubeConfigExec, "insecure-kubeconfig-exec", false, "Allow exec and auth-provider plugins in spec.kubeConfig kubeconfigs; they run programs inside this controller.")
	o.Retry.BindFlags(fs)
}

// Backoff returns the rate limiter of the controller's transient retries, from --min-retry-delay
// and --max-retry-delay.
func (o *ApplierOptions) Backoff() *steps.Backoff { return steps.NewBackoff(o.Retry) }

// Validate defaults --artifact-host to source-controller's Service in $RUNTIME_NAMESPACE
// (weir-system when unset) and checks it.
func (o *ApplierOptions) Validate() error {
	if o.ArtifactHost == "" {
		ns := os.Getenv("RUNTIME_NAMESPACE")
		if ns == "" {
			ns = "weir-system"
		}
		o.ArtifactHost = fmt.Sprintf("source-controller.%s.svc.cluster.local.", ns)
	}
	if o.ArtifactHost[0] == ':' {
		return errors.New("--artifact-host: must be host[:port]")
	}
	if r := o.Retry; r.MinRetryDelay < 0 || r.MaxRetryDelay < 0 || (r.MaxRetryDelay > 0 && r.MinRetryDelay > r.MaxRetryDelay) {
		return fmt.Errorf("--min-retry-delay (%s) and --max-retry-delay (%s): must not be negative, and the minimum not above the maximum", r.MinRetryDelay, r.MaxRetryDelay)
	}
	return nil
}

// Identities returns the resolver of the identities the controller acts as, reading
// kubeconfig Secrets and ServiceAccounts past the manager's cache.
func (o *ApplierOptions) Identities(mgr ctrl.Manager) *identity.Resolver {
	return &identity.Resolver{
		Config: mgr.GetConfig(), Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper(), Reader: mgr.GetAPIReader(),
		DefaultServiceAccount: o.DefaultServiceAccount, InsecureKubeConfigExec: o.InsecureKubeConfigExec,
	}
}
