package release

import (
	"fmt"
	"io"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/kube"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
)

// Target says where a release lives.
type Target struct {
	// Name of the release.
	Name string
	// Namespace the release's objects are installed into.
	Namespace string
	// StorageNamespace holds Helm's release records (Secrets).
	StorageNamespace string
	// MaxHistory is the number of revisions kept in storage; 0 keeps all.
	MaxHistory int
}

// Runner runs Helm actions for one release with one identity.
type Runner struct {
	Target Target
	cfg    *action.Configuration
}

// NewRunner returns a Runner acting as the getter's identity (a *Getter, or a *FreshGetter),
// with Helm's storage in Secrets of t.StorageNamespace. log receives Helm's debug output.
func NewRunner(getter genericclioptions.RESTClientGetter, t Target, log func(format string, args ...any)) (*Runner, error) {
	restCfg, err := getter.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	clientset, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return nil, fmt.Errorf("building a Kubernetes client for Helm: %w", err)
	}
	kc := kube.New(getter)
	kc.Namespace = t.Namespace
	kc.Log = log
	secrets := driver.NewSecrets(clientset.CoreV1().Secrets(t.StorageNamespace))
	secrets.Log = log
	store := storage.Init(secrets)
	store.MaxHistory = t.MaxHistory
	return &Runner{
		Target: t,
		cfg: &action.Configuration{
			RESTClientGetter: getter,
			KubeClient:       kc,
			Releases:         store,
			Log:              log,
			HookOutputFunc:   func(_, _, _ string) io.Writer { return io.Discard },
		},
	}, nil
}
