// Package examples runs the single-team examples of docs/examples end to end on one local
// Weir (the controllers as processes, without lockdown): the monorepo (dependsOn, wait, a
// HelmRelease with each environment's values) and the config repository separate from the app
// repository (a CI-style image bump applied, announced on Slack and as a GitHub commit
// status). The multi-tenant example runs under lockdown in package tenants.
package examples
