// Package testenv starts the real test control plane, a kube-apiserver and etcd built by
// `make testbin`, through controller-runtime's envtest, with every Weir CRD installed.
//
// A package's TestMain starts one Environment for all its tests:
//
//	var env *testenv.Environment
//
//	func TestMain(m *testing.M) { testenv.Main(m, &env) }
//
// Each test then works in its own namespace from env.Namespace(t).
package testenv
