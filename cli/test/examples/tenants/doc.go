// Package tenants runs docs/examples/tenants end to end on a local Weir under lockdown (the
// flags of deploy/components/lockdown: --no-cross-namespace-refs, --default-service-account):
// a platform repository onboards two teams, each applying its own repository as its own
// ServiceAccount; a team that writes into the other's namespace is refused, and told why, and
// the other team is unaffected.
package tenants
