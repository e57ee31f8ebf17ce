package controller

import (
	"time"

	sourcev1 "weir.dev/api/source/v1"
)

// gitTimeout is spec.timeout, 60s when unset.
func gitTimeout(obj *sourcev1.GitRepository) time.Duration {
	if t := obj.Spec.Timeout; t != nil && t.Duration > 0 {
		return t.Duration
	}
	return 60 * time.Second
}

// chartTimeout is spec.timeout, else the HelmRepository's (when repo is set), else 60s.
func chartTimeout(obj *sourcev1.HelmChart, repo *sourcev1.HelmRepository) time.Duration {
	if repo != nil {
		return durationOr(obj.Spec.Timeout, durationOr(repo.Spec.Timeout, defaultTimeout))
	}
	return durationOr(obj.Spec.Timeout, defaultTimeout)
}
