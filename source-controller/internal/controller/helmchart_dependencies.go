package controller

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	hchart "helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/source-controller/internal/chart"
	"weir.dev/source-controller/internal/helmrepo"
)

// remoteDependency resolves a chart's non-local dependency through the HelmRepository in ns
// whose spec.url is the dependency's repository: from its stored index (type default) or its
// registry (type oci), with its credentials.
func (r *HelmChartReconciler) remoteDependency(ns string) chart.Remote {
	return func(ctx context.Context, dep *hchart.Dependency) (*hchart.Chart, error) {
		var list sourcev1.HelmRepositoryList
		if err := r.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return nil, err
		}
		var repo *sourcev1.HelmRepository
		for i := range list.Items {
			if normalizeRepoURL(list.Items[i].Spec.URL) == normalizeRepoURL(dep.Repository) {
				repo = &list.Items[i]
				break
			}
		}
		if repo == nil {
			return nil, fmt.Errorf("no HelmRepository in namespace '%s' has spec.url '%s'", ns, dep.Repository)
		}
		var data []byte
		if repo.Spec.Type == sourcev1.HelmRepositoryTypeOCI {
			c, err := helmOCIClient(ctx, r.Client, repo, dep.Name)
			if err != nil {
				return nil, err
			}
			if data, _, err = pullChart(ctx, c, dep.Version, r.limits().MaxSize, nil); err != nil {
				return nil, err
			}
		} else {
			if repo.Status.Artifact == nil {
				return nil, fmt.Errorf("HelmRepository '%s' has no index yet", repo.Name)
			}
			idx, err := r.storedIndex(repo.Status.Artifact)
			if err != nil {
				return nil, err
			}
			cv, err := helmrepo.Select(idx, dep.Name, dep.Version)
			if err != nil {
				return nil, fmt.Errorf("HelmRepository '%s': %w", repo.Name, err)
			}
			c, err := helmIndexClient(ctx, r.Client, repo)
			if err != nil {
				return nil, err
			}
			if data, err = c.FetchChart(ctx, cv, r.limits().MaxSize); err != nil {
				return nil, err
			}
		}
		return chart.LoadArchive(data, r.Limits)
	}
}

// normalizeRepoURL compares repository URLs without a trailing slash.
func normalizeRepoURL(u string) string { return strings.TrimSuffix(strings.TrimSpace(u), "/") }

// storedIndexMaxSize bounds a stored index read back from storage.
const storedIndexMaxSize = 256 << 20

// storedIndex reads a HelmRepository's index artifact from storage, through a small cache
// keyed by digest, so charts of one repository parse its index once per revision.
func (r *HelmChartReconciler) storedIndex(a *meta.Artifact) (*repo.IndexFile, error) {
	return r.indexes.get(a.Digest, func() (*repo.IndexFile, error) {
		f, err := r.Storage.OpenVerified(*a)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, storedIndexMaxSize))
		if err != nil {
			return nil, fmt.Errorf("reading the stored index: %w", err)
		}
		return helmrepo.ParseNormalized(data)
	})
}

// indexCache holds the most recently used parsed indexes.
type indexCache struct {
	mu      sync.Mutex
	entries []indexEntry // most recent first
}

type indexEntry struct {
	digest string
	index  *repo.IndexFile
}

// indexCacheSize is how many parsed indexes indexCache keeps.
const indexCacheSize = 8

func (c *indexCache) get(digest string, load func() (*repo.IndexFile, error)) (*repo.IndexFile, error) {
	c.mu.Lock()
	for i, e := range c.entries {
		if e.digest == digest {
			copy(c.entries[1:i+1], c.entries[:i])
			c.entries[0] = e
			c.mu.Unlock()
			return e.index, nil
		}
	}
	c.mu.Unlock()
	idx, err := load()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = append([]indexEntry{{digest, idx}}, c.entries...)
	if len(c.entries) > indexCacheSize {
		c.entries = c.entries[:indexCacheSize]
	}
	return idx, nil
}

// readLimited reads at most max bytes of the file at p.
func readLimited(p string, max int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("larger than %d bytes: %w", max, chart.ErrLimit)
	}
	return data, nil
}
