package dependency

import (
	"context"
	"fmt"
	"time"

	"github.com/fluxcd/pkg/runtime/cel"
	celgo "github.com/google/cel-go/cel"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// readyExprTimeout bounds one evaluation of a readyExpr.
const readyExprTimeout = time.Second

// ReadyExpr is a compiled spec.dependsOn[].readyExpr: a CEL expression returning a bool, with
// the dependency as `dep` and the dependent object as `self` (as in Flux). It replaces the
// default readiness rule of NotReady.
type ReadyExpr struct {
	expr *cel.Expression
}

// CompileReadyExpr compiles expr; the error names the expression and says what is wrong.
func CompileReadyExpr(expr string) (*ReadyExpr, error) {
	e, err := cel.NewExpression(expr, cel.WithCompile(), cel.WithOutputType(celgo.BoolType),
		cel.WithStructVariables("self", "dep"))
	if err != nil {
		return nil, err
	}
	return &ReadyExpr{expr: e}, nil
}

// NotReady evaluates the expression for dep (the dependency) and self (the dependent), both as
// unstructured maps, and returns why the dependency is not ready, or "" when the expression
// is true. An evaluation error (a field the dependency does not have yet, say) counts as not
// ready: it is rechecked on the next requeue.
func (e *ReadyExpr) NotReady(ctx context.Context, dep, self map[string]any) string {
	ctx, cancel := context.WithTimeout(ctx, readyExprTimeout)
	defer cancel()
	ok, err := e.expr.EvaluateBoolean(ctx, map[string]any{"dep": dep, "self": self})
	switch {
	case err != nil:
		return fmt.Sprintf("readyExpr could not be evaluated: %s", err)
	case !ok:
		return fmt.Sprintf("readyExpr '%s' is false", e.expr)
	}
	return ""
}

// InvalidExprError says the readyExpr of spec.dependsOn[Index] does not compile.
type InvalidExprError struct {
	Index int
	Ref   Ref
	Err   error
}

func (e *InvalidExprError) Error() string {
	return fmt.Sprintf("spec.dependsOn[%d].readyExpr of %s is invalid: %s", e.Index, e.Ref, e.Err)
}

func (e *InvalidExprError) Unwrap() error { return e.Err }

// objectMap returns obj as an unstructured map; nil gives an empty map.
func objectMap(obj client.Object) (map[string]any, error) {
	if obj == nil {
		return map[string]any{}, nil
	}
	return runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
}
