package install

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"weir.dev/deploy"
)

// DefaultNamespace is where deploy/ puts the controllers.
const DefaultNamespace = "weir-system"

// Controllers are the Deployments of a base install, in start order.
var Controllers = []string{"source-controller", "kustomize-controller", "helm-controller", "notification-controller"}

// Options choose what Render renders.
type Options struct {
	// Namespace is the controllers' namespace; empty means DefaultNamespace.
	Namespace string
	// Registry is the repository prefix of the images, e.g. ghcr.io/acme/weir, so that the
	// images are <Registry>/<controller>:<Version>. Empty keeps deploy/'s names (weir/<controller>).
	Registry string
	// Version is the images' tag and the app.kubernetes.io/version label. Empty keeps deploy/'s
	// tag (dev) and sets no label.
	Version string
	// Components are folders of deploy/components to include, e.g. lockdown.
	Components []string
}

var (
	tagPattern       = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	hostPattern      = regexp.MustCompile(`^(localhost|[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9a-fA-F:]+\])(:[0-9]{1,5})?$`)
	pathPartPattern  = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$`)
	componentPattern = regexp.MustCompile(`^[a-z0-9-]+$`)
)

// Validate checks every option and returns one error naming each bad one.
func (o Options) Validate() error {
	if o.Namespace != "" {
		if errs := validation.IsDNS1123Label(o.Namespace); len(errs) > 0 {
			return fmt.Errorf("--namespace %q: %s", o.Namespace, strings.Join(errs, "; "))
		}
	}
	if o.Registry != "" {
		if err := validateRegistry(o.Registry); err != nil {
			return fmt.Errorf("--registry %q: %w", o.Registry, err)
		}
	}
	if o.Version != "" && !tagPattern.MatchString(o.Version) {
		return fmt.Errorf("--version %q is not an image tag: letters, digits, '_', '.' and '-', at most 128, not starting with '.' or '-'", o.Version)
	}
	for _, c := range o.Components {
		if !componentPattern.MatchString(c) || !slices.Contains(deploy.Components, c) {
			return fmt.Errorf("--components: no component %q; there are %s", c, strings.Join(deploy.Components, ", "))
		}
	}
	return nil
}

// validateRegistry checks that r is host[:port][/path…] with no tag or digest.
func validateRegistry(r string) error {
	if strings.Contains(r, "://") {
		return fmt.Errorf("give the registry without a scheme, e.g. ghcr.io/acme/weir")
	}
	if strings.Contains(r, "@") {
		return fmt.Errorf("has a digest: give the repository prefix only, and the tag with --version")
	}
	parts := strings.Split(strings.TrimSuffix(r, "/"), "/")
	if !hostPattern.MatchString(parts[0]) {
		return fmt.Errorf("%q is not a registry host[:port]", parts[0])
	}
	for _, p := range parts[1:] {
		if strings.Contains(p, ":") {
			return fmt.Errorf("has a tag (%q): give the repository prefix only, and the tag with --version", p)
		}
		if !pathPartPattern.MatchString(p) {
			return fmt.Errorf("path part %q must be lowercase letters and digits, separated by '.', '_' or '-'", p)
		}
	}
	return nil
}

// namespace returns the namespace o installs into.
func (o Options) namespace() string {
	if o.Namespace == "" {
		return DefaultNamespace
	}
	return o.Namespace
}

// Image returns the image reference of controller under o.
func (o Options) Image(controller string) string {
	name, tag := o.imageParts(controller)
	return name + ":" + tag
}

func (o Options) imageParts(controller string) (name, tag string) {
	name, tag = "weir/"+controller, "dev"
	if o.Registry != "" {
		name = strings.TrimSuffix(o.Registry, "/") + "/" + controller
	}
	if o.Version != "" {
		tag = o.Version
	}
	return name, tag
}

// ComponentHelp describes deploy/components for a command's help.
func ComponentHelp() string {
	return "sharding (a second kustomize-controller for Kustomizations labelled sharding.weir.dev/key=shard1), " +
		"lockdown (multi-tenancy: --no-cross-namespace-refs, --default-service-account=default, no cluster-admin bindings), " +
		"large (more CPU, memory and concurrency), " +
		"monitoring (PodMonitor, alert rules and Grafana dashboards; needs the Prometheus Operator's CRDs)"
}
