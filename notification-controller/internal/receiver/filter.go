package receiver

import (
	"context"
	"fmt"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/ext"
)

// filterCostLimit bounds the work one evaluation of a resourceFilter may do, so a filter over a
// large request body cannot spin.
const filterCostLimit = 1_000_000

// Filter is a compiled resourceFilter.
type Filter struct {
	prog cel.Program
}

// CompileFilter compiles a resourceFilter: a CEL expression over `res` (the object) and `req`
// (the request body as a JSON object) that must evaluate to a boolean.
func CompileFilter(expr string) (*Filter, error) {
	env, err := cel.NewEnv(
		cel.Variable("res", cel.DynType),
		cel.Variable("req", cel.DynType),
		cel.CrossTypeNumericComparisons(true),
		cel.OptionalTypes(),
		ext.Strings(),
	)
	if err != nil {
		return nil, err
	}
	ast, issues := env.Compile(expr)
	if issues != nil && issues.Err() != nil {
		return nil, fmt.Errorf("spec.resourceFilter does not compile: %s", issues.Err())
	}
	if !ast.OutputType().IsExactType(types.BoolType) {
		return nil, fmt.Errorf("spec.resourceFilter must evaluate to a boolean, not %s", ast.OutputType())
	}
	prog, err := env.Program(ast, cel.CostLimit(filterCostLimit), cel.InterruptCheckFrequency(100))
	if err != nil {
		return nil, fmt.Errorf("spec.resourceFilter: %w", err)
	}
	return &Filter{prog: prog}, nil
}

// Match evaluates the filter for one object (as unstructured content) and request payload.
func (f *Filter) Match(ctx context.Context, res, req map[string]any) (bool, error) {
	val, _, err := f.prog.ContextEval(ctx, map[string]any{"res": res, "req": req})
	if err != nil {
		return false, fmt.Errorf("evaluating spec.resourceFilter: %w", err)
	}
	b, ok := val.(types.Bool)
	if !ok {
		return false, fmt.Errorf("spec.resourceFilter did not evaluate to a boolean")
	}
	return bool(b), nil
}
