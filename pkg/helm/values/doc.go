// Package values composes a release's values: spec.valuesFrom (ConfigMap and Secret keys, in
// order, each parsed as YAML or placed whole at a target path) merged deeply, then spec.values
// over them. Errors name the object and key at fault, never their content.
package values
