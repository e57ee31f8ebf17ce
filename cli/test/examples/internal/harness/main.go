package harness

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"weir.dev/cli/internal/local"
	"weir.dev/cli/internal/local/localtest"
)

// WeirNamespace is the namespace `weir install` creates, where the examples' cluster entry
// points put their sources, Kustomizations and notifications.
const WeirNamespace = "weir-system"

// Main starts one local Weir with opts for the whole test package, creates WeirNamespace,
// sets *env, runs the tests and stops it (see localtest.Run).
func Main(m *testing.M, opts local.Options, env **local.Env) {
	// envtest logs through controller-runtime; Up's progress and the controllers' logs say enough.
	ctrllog.SetLogger(logr.Discard())
	os.Exit(localtest.Run(m, opts, env, func(e *local.Env) error {
		// `weir install` creates Weir's namespace; the local mode runs the controllers as processes.
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: WeirNamespace}}
		if err := e.Client.Create(context.Background(), ns); err != nil {
			return fmt.Errorf("creating namespace %s: %w", WeirNamespace, err)
		}
		return nil
	}))
}
