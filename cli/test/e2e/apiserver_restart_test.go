package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// TestControllersRecoverFromAnAPIServerRestart restarts kube-apiserver (etcd keeps the state)
// while the controllers run: they keep running, reconnect, and apply a commit pushed afterwards.
func TestControllersRecoverFromAnAPIServerRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	if err := env.RestartAPIServer(ctx); err != nil {
		t.Fatalf("restarting kube-apiserver: %v", err)
	}
	t.Logf("kube-apiserver restarted in %s", time.Since(start).Round(time.Millisecond))

	writeFile(t, "app/configmap.yaml", configMap("podinfo-config", "Hello after an API server restart"))
	revision := commitAndPush(t, "Change the greeting after an API server restart")
	triggerSource(t)
	appliedRevision(t, "app", revision, 30*time.Second)
	appliedRevision(t, "app-staging", revision, 30*time.Second)
	waitConfigMap(t, "podinfo-config", "Hello after an API server restart")

	// The same processes did it: none exited.
	for _, c := range env.Controllers {
		resp, err := http.Get("http://" + c.HealthAddr + "/readyz")
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s /readyz: %s", c.Name, resp.Status)
		}
	}
}
