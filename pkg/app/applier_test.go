package app

import (
	"testing"
	"time"

	runtimectrl "github.com/fluxcd/pkg/runtime/controller"

	"github.com/spf13/pflag"
)

func TestApplierOptions(t *testing.T) {
	t.Setenv("RUNTIME_NAMESPACE", "gitops")
	var o ApplierOptions
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	o.BindFlags(fs, "Kustomization")
	if err := fs.Parse([]string{"--default-service-account=tenant", "--no-cross-namespace-refs", "--insecure-kubeconfig-exec", "--max-retry-delay=2m"}); err != nil {
		t.Fatal(err)
	}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	want := ApplierOptions{ArtifactHost: "source-controller.gitops.svc.cluster.local.", NoCrossNamespaceRefs: true, DefaultServiceAccount: "tenant", InsecureKubeConfigExec: true,
		Retry: runtimectrl.RateLimiterOptions{MinRetryDelay: 750 * time.Millisecond, MaxRetryDelay: 2 * time.Minute}}
	if o != want {
		t.Errorf("got %+v, want %+v", o, want)
	}
	bad := ApplierOptions{ArtifactHost: ":9090"}
	if err := bad.Validate(); err == nil || err.Error() != "--artifact-host: must be host[:port]" {
		t.Errorf("a host-less --artifact-host: got %v", err)
	}
	inverted := ApplierOptions{ArtifactHost: "storage:9090", Retry: runtimectrl.RateLimiterOptions{MinRetryDelay: time.Minute, MaxRetryDelay: time.Second}}
	if err := inverted.Validate(); err == nil {
		t.Errorf("--min-retry-delay above --max-retry-delay was accepted")
	}
}
