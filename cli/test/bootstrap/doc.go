// Package bootstrap tests `weir bootstrap git` end to end: a local Weir (the API server and the
// four controllers as processes) and a Git server on 127.0.0.1 with HTTP basic auth and SSH.
// Weir installs itself from the repository and then follows it: a patch, a re-run, an upgrade.
package bootstrap
