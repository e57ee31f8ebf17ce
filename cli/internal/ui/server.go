package ui

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"strconv"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/pkg/scheme"
)

//go:embed assets
var assets embed.FS

// Options configure a Server.
type Options struct {
	// Config reaches the cluster as the user: every read and action is the user's own.
	Config *rest.Config
	// Namespaces are tried one by one when the user may not list namespaces (--namespace, or
	// the kubeconfig context's namespace).
	Namespaces []string
	// Context names the kubeconfig context, shown in the header.
	Context string
	// StartTimeout bounds finding out what the user may list and the first list of each
	// watch; two minutes when zero.
	StartTimeout time.Duration
	// Rediscover is how often the UI looks for new namespaces when the user may list some
	// kinds only namespace by namespace; a minute when zero.
	Rediscover time.Duration
	// ReadOnly disables every action, whatever RBAC allows.
	ReadOnly bool
	// Log, when set, gets a line per action taken through the UI.
	Log io.Writer
}

// Server is the web UI. It serves on loopback only and holds no credentials of its own.
type Server struct {
	opts   Options
	client client.Client
	store  *store
	hub    *hub
	pages  *pages
	token  string
	user   string
	access *accessCache
	// mapper resolves the kinds users type into trace, short names included; discovery
	// answers it, cached until a kind is not found.
	mapper    apimeta.RESTMapper
	discovery *restmapper.DeferredDiscoveryRESTMapper
	handler   http.Handler
	// addr is the address the server listens on, set by Listen.
	addr string
}

// New connects to the cluster with opts.Config, finds out what the user may list, and starts
// watching it until ctx ends. It returns once every watch has listed.
func New(ctx context.Context, opts Options) (*Server, error) {
	cfg := rest.CopyConfig(opts.Config)
	if cfg.QPS < 100 {
		cfg.QPS, cfg.Burst = 100, 200
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme.New()})
	if err != nil {
		return nil, err
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	token := make([]byte, 32)
	if _, err := rand.Read(token); err != nil {
		return nil, err
	}
	pg, err := loadPages()
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, client: c, hub: newHub(), pages: pg, token: hex.EncodeToString(token)}
	s.access = newAccessCache(kube)
	cached := memory.NewMemCacheClient(kube.Discovery())
	s.discovery = restmapper.NewDeferredDiscoveryRESTMapper(cached)
	s.mapper = restmapper.NewShortcutExpander(s.discovery, cached, nil)
	s.store = newStore(dyn, kube, opts.Namespaces, s.hub.publish)
	s.user = whoAmI(ctx, kube)
	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	rediscover := opts.Rediscover
	if rediscover == 0 {
		rediscover = time.Minute
	}
	if err := s.store.start(ctx, timeout, rediscover); err != nil {
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

// whoAmI names the user the API server sees, or "" when it cannot tell.
func whoAmI(ctx context.Context, kube kubernetes.Interface) string {
	r, err := kube.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return ""
	}
	return r.Status.UserInfo.Username
}

// Listen binds a loopback address: 127.0.0.1 on port, or on a free port when port is 0.
func (s *Server) Listen(port int) (net.Listener, error) {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	s.addr = l.Addr().String()
	return l, nil
}

// URL is the address to open in a browser, once Listen has bound one.
func (s *Server) URL() string { return "http://" + s.addr + "/" }

// Serve serves the UI on l until ctx ends.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		s.hub.close()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(assets, "assets/static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", s.overview)
	mux.HandleFunc("GET /objects", s.list)
	mux.HandleFunc("GET /objects/{kind}/{namespace}/{name}", s.detail)
	mux.HandleFunc("POST /objects/{kind}/{namespace}/{name}/{action}", s.act)
	mux.HandleFunc("GET /trace", s.trace)
	mux.HandleFunc("GET /watch", s.watch)
	return s.guard(mux)
}
