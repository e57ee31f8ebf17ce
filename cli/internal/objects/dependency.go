package objects

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"weir.dev/pkg/dependency"
)

// EdgeBlocks says why dep does not satisfy its dependent's spec.dependsOn entry d (by d's
// readyExpr, or by the default rule), or "" when it does: the controllers' own rules.
func EdgeBlocks(ctx context.Context, d dependency.Ref, dep, dependent *unstructured.Unstructured) string {
	if d.ReadyExpr == "" {
		return dependency.NotReady(dep)
	}
	e, err := dependency.CompileReadyExpr(d.ReadyExpr)
	if err != nil {
		return fmt.Sprintf("invalid readyExpr: %s", err)
	}
	return e.NotReady(ctx, dep.Object, dependent.Object)
}
