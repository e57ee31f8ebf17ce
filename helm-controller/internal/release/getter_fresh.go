package release

import (
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
)

// FreshGetter is a Helm RESTClientGetter like Getter whose discovery client and REST mapper
// are new at every call: each client Helm builds during an action sees the API as it is then.
// It serves HelmRelease spec.persistentClient: false, for charts whose templates create CRDs
// that later hooks of the same action use (a shared Getter's cache would not know their kinds).
// It costs a discovery of the API each time Helm builds objects.
type FreshGetter struct {
	config    *rest.Config
	namespace string
}

// NewFreshGetter returns a FreshGetter over cfg with the default namespace.
func NewFreshGetter(cfg *rest.Config, namespace string) *FreshGetter {
	return &FreshGetter{config: cfg, namespace: namespace}
}

// ToRESTConfig returns a copy of the config.
func (g *FreshGetter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.config), nil }

// ToDiscoveryClient returns a new, empty in-memory cached discovery client.
func (g *FreshGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(g.config)
	if err != nil {
		return nil, err
	}
	return memory.NewMemCacheClient(dc), nil
}

// ToRESTMapper returns a mapper over a new discovery client.
func (g *FreshGetter) ToRESTMapper() (apimeta.RESTMapper, error) {
	dc, err := g.ToDiscoveryClient()
	if err != nil {
		return nil, err
	}
	return restmapper.NewShortcutExpander(restmapper.NewDeferredDiscoveryRESTMapper(dc), dc, nil), nil
}

// ToRawKubeConfigLoader returns an empty client config whose namespace is the getter's.
func (g *FreshGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	return (&Getter{namespace: g.namespace}).ToRawKubeConfigLoader()
}
