package release

import (
	"sync"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Getter is a Helm RESTClientGetter over one rest.Config and a default namespace: every client
// Helm builds from it, including the one behind the template function `lookup`, acts as the
// config's identity. It never reads a kubeconfig file.
type Getter struct {
	config    *rest.Config
	namespace string
	discovery discovery.CachedDiscoveryInterface
	mapper    apimeta.RESTMapper
}

// ToRESTConfig returns a copy of the config.
func (g *Getter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.config), nil }

// ToDiscoveryClient returns the in-memory cached discovery client of the config's identity.
func (g *Getter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	return g.discovery, nil
}

// ToRESTMapper returns a mapper over the cached discovery client.
func (g *Getter) ToRESTMapper() (apimeta.RESTMapper, error) { return g.mapper, nil }

// ToRawKubeConfigLoader returns an empty client config whose namespace is the getter's.
func (g *Getter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	return clientcmd.NewDefaultClientConfig(*clientcmdapi.NewConfig(), &clientcmd.ConfigOverrides{
		Context: clientcmdapi.Context{Namespace: g.namespace},
	})
}

// maxGetters bounds the discovery caches kept; past it the cache starts afresh.
const maxGetters = 256

// Getters builds Getters, sharing one discovery cache per rest.Config, so that releases acting
// as the same identity do not rediscover the API each time. It is safe for concurrent use.
type Getters struct {
	mu    sync.Mutex
	cache map[*rest.Config]*Getter
}

// For returns a Getter for cfg with the default namespace. cfg must not be changed afterwards;
// pass the same pointer for the same identity (identity.Cluster.Config is cached that way).
func (gs *Getters) For(cfg *rest.Config, namespace string) (*Getter, error) {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	base, ok := gs.cache[cfg]
	if !ok {
		dc, err := discovery.NewDiscoveryClientForConfig(cfg)
		if err != nil {
			return nil, err
		}
		cached := memory.NewMemCacheClient(dc)
		base = &Getter{
			config:    cfg,
			discovery: cached,
			mapper:    restmapper.NewShortcutExpander(restmapper.NewDeferredDiscoveryRESTMapper(cached), cached, nil),
		}
		if gs.cache == nil || len(gs.cache) >= maxGetters {
			gs.cache = map[*rest.Config]*Getter{}
		}
		gs.cache[cfg] = base
	}
	g := *base
	g.namespace = namespace
	return &g, nil
}
