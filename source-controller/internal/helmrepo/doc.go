// Package helmrepo reads classic (HTTP) Helm chart repositories: it downloads `index.yaml` and
// chart archives within a size limit and the caller's deadline, parses the index strictly,
// normalises it into a stable form (so the same charts always give the same digest), and
// picks a chart's highest version in a SemVer range.
//
// Credentials go to the repository's own host (host:port) only, unless the caller passes
// them on explicitly; errors never carry them, nor URL userinfo.
package helmrepo
