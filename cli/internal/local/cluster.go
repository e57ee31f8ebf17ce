package local

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/pkg/freeport"
)

// kwokNode is the name of the simulated node.
const kwokNode = "weir-local-node"

// startClusterComponents starts, from assets, the parts that make the control plane behave
// like a cluster, each only if its binary is there (`make run` builds them; `make testbin`
// does not): kube-controller-manager (namespaces terminate; Deployments get ReplicaSets and
// Pods), kube-scheduler (Pods get a node) and kwok with one simulated node (Pods become Ready
// without a kubelet, so Deployments become Available). They are stopped after the
// controllers and before the API server, which would otherwise wait for their watches.
func (e *Env) startClusterComponents(ctx context.Context, assets string) error {
	insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	secure := func(c *Controller) []string {
		_, port, _ := net.SplitHostPort(c.HealthAddr)
		c.readyURL, c.httpClient = "https://"+c.HealthAddr+"/healthz", insecure
		return []string{"--kubeconfig=" + e.KubeconfigPath, "--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port=" + port}
	}
	components := []struct {
		name string
		args func(*Controller) []string
	}{
		{"kube-controller-manager", func(c *Controller) []string {
			return append(secure(c),
				"--service-account-private-key-file="+filepath.Join(e.env.ControlPlane.APIServer.CertDir, "sa-signer.key"),
				"--use-service-account-credentials=false", "--controllers=*", "--v=1")
		}},
		{"kube-scheduler", secure},
		{"kwok", func(c *Controller) []string {
			c.readyURL = "http://" + c.HealthAddr + "/healthz"
			return []string{"--kubeconfig=" + e.KubeconfigPath, "--manage-all-nodes=false",
				"--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
				"--config=" + filepath.Join(assets, "kwok-stages.yaml"), "--server-address=" + c.HealthAddr,
				"--cidr=10.0.0.1/24", "--node-ip=10.0.0.1", "--node-lease-duration-seconds=40"}
		}},
	}
	e.clusterMu.Lock()
	defer e.clusterMu.Unlock()
	running := map[string]bool{}
	for _, c := range e.cluster {
		running[c.Name] = true
	}
	for _, comp := range components {
		bin := filepath.Join(assets, comp.name)
		if _, err := os.Stat(bin); err != nil || running[comp.name] {
			continue
		}
		if comp.name == "kwok" {
			// make builds the stages with kwok: they make its node and Pods Ready at once.
			if _, err := os.Stat(filepath.Join(assets, "kwok-stages.yaml")); err != nil {
				continue
			}
		}
		start := time.Now()
		addr, err := freeport.Addr()
		if err != nil {
			return err
		}
		c := &Controller{Name: comp.name, HealthAddr: addr, LogPath: filepath.Join(e.Dir, comp.name+".log")}
		if err := c.start(bin, comp.args(c), e.exited); err != nil {
			return err
		}
		e.cluster = append(e.cluster, c)
		if err := c.waitReady(ctx, time.Minute); err != nil {
			return err
		}
		if comp.name == "kwok" {
			if err := e.createNode(ctx); err != nil {
				return err
			}
		}
		e.printf("  ✓ %s ready (%s)\n", comp.name, since(start))
	}
	e.HasNode = len(e.cluster) == len(components)
	return nil
}

// completeClusterInBackground builds the cluster components bin/ lacks, one after the other,
// and starts them: until then Pods are not scheduled and Deployments stay unavailable, which
// the demo's first sync does not need. Stop cancels it.
func (e *Env) completeClusterInBackground(assets string) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	e.background = func() { cancel(); <-done }
	root := e.opts.RepoRoot
	kwok := makeBuild{name: "kwok"}
	e.printf("  … building kube-controller-manager, kube-scheduler and kwok in the background (first run only):\n" +
		"    until they run, Pods are not scheduled and Deployments stay unavailable\n")
	go func() {
		defer close(done)
		err := makeMissing(ctx, root, e.printf, kubeBuild(root, "kube-controller-manager"), kubeBuild(root, "kube-scheduler"), kwok)
		if err == nil {
			err = e.startClusterComponents(ctx, assets)
		}
		switch {
		case ctx.Err() != nil:
		case err != nil:
			e.printf("! the cluster components did not start (Weir keeps running without a node): %v\n", err)
		default:
			e.printf("  ✓ a simulated node runs Pods now: Deployments become Available\n")
		}
	}()
}

// createNode creates the node kwok simulates and waits until it is Ready.
func (e *Env) createNode(ctx context.Context) error {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("32"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        kwokNode,
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
			Labels: map[string]string{"kubernetes.io/hostname": kwokNode, "kubernetes.io/os": "linux",
				"kubernetes.io/arch": "amd64", "type": "kwok"},
		},
		Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
	}
	if err := e.Client.Create(ctx, node); err != nil {
		return fmt.Errorf("creating the simulated node: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		if err := e.Client.Get(ctx, client.ObjectKeyFromObject(node), node); err == nil {
			for _, c := range node.Status.Conditions {
				if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the simulated node %s did not become Ready: %w", kwokNode, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
