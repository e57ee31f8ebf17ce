// Package release runs Helm (helm.sh/helm/v3, in process) for one release: it observes the
// release's state in Helm's storage, and runs exactly one action (install, upgrade, unlock,
// uninstall, adopt) per call. It knows nothing of HelmRelease objects: the controller maps its API to
// the option structs here and decides which action to run from the observed State.
//
// Every Kubernetes call Helm makes, storage included and the template engine's `lookup`
// function too, goes through a Getter over one rest.Config, so it carries that config's
// identity (an impersonated ServiceAccount, or a remote cluster's credentials).
package release
