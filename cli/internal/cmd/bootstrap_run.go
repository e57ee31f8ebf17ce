package cmd

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/cli/internal/bootstrap"
)

// bootstrapper runs one `weir bootstrap git`.
type bootstrapper struct {
	g      *Globals
	c      client.Client
	u      *url.URL
	creds  *bootstrap.Credentials
	layout bootstrap.Layout
	author bootstrap.Signature

	force, waitForControllers bool
	timeout                   time.Duration
}

// run checks the cluster, then the repository, before it changes either; then commits and
// pushes what changed, applies, and waits until Weir has synced the pushed commit.
func (b *bootstrapper) run(ctx context.Context) error {
	if err := checkKubernetesVersion(b.g); err != nil {
		return err
	}
	in := &installer{g: b.g, c: b.c, opts: b.layout.Install, timeout: b.timeout}
	if err := in.checkAccess(ctx); err != nil {
		return err
	}
	if err := b.checkInstalled(ctx); err != nil {
		return err
	}

	progress(b.g, "◎ cloning %s (branch %s)", bootstrap.Redact(b.u), b.layout.Branch)
	repo, err := bootstrap.Clone(ctx, b.u, b.layout.Branch, b.creds)
	if err != nil {
		return err
	}
	if repo.New {
		progress(b.g, "✔ the branch %s is new: starting it", b.layout.Branch)
	} else {
		progress(b.g, "✔ cloned")
	}
	revision, err := b.write(ctx, repo)
	if err != nil {
		return err
	}
	objs, err := b.layout.Objects(ctx, repo)
	if err != nil {
		return err
	}
	if err := b.apply(ctx, objs); err != nil {
		return err
	}
	if err := b.waitSynced(ctx, revision); err != nil {
		return err
	}
	if !b.waitForControllers {
		progress(b.g, "◎ not waiting for the controllers' Deployments (--wait-for-controllers=false)")
		return nil
	}
	return waitControllers(ctx, b.g, b.c, b.layout.Install.Namespace, deploymentNames(objs), b.timeout)
}

// write checks the cluster's path is free or Weir's, writes the generated files (and
// kustomization.yaml when there is none), and commits and pushes them when they changed.
// It returns the revision the GitRepository will report for the head.
func (b *bootstrapper) write(ctx context.Context, repo *bootstrap.Repo) (string, error) {
	l := b.layout
	files, err := repo.Files(l.Path)
	if err != nil {
		return "", err
	}
	sync, _, err := repo.ReadFile(l.File(bootstrap.SyncFile))
	if err != nil {
		return "", err
	}
	if err := l.CheckOwner(files, sync); err != nil {
		return "", err
	}
	want, err := l.Files()
	if err != nil {
		return "", err
	}
	for _, p := range sortedKeys(want) {
		if err := repo.WriteFile(p, want[p]); err != nil {
			return "", err
		}
	}
	kfile := l.File(bootstrap.KustomizationFile)
	if _, ok, err := repo.ReadFile(kfile); err != nil {
		return "", err
	} else if !ok {
		if err := repo.WriteFile(kfile, []byte(bootstrap.KustomizationManifest)); err != nil {
			return "", err
		}
	}
	version := versionOrDev(l.Install.Version)
	hash, changed, err := repo.Commit(fmt.Sprintf("Weir %s for %s\n\nWritten by weir bootstrap git.", version, l.Path), b.author)
	if err != nil {
		return "", err
	}
	revision := l.Branch + "@sha1:" + hash
	if !changed {
		progress(b.g, "✔ no changes: %s/%s already holds Weir %s (%s)", l.Path, bootstrap.Dir, version, revision)
		return revision, nil
	}
	if err := repo.Push(ctx); err != nil {
		return "", err
	}
	progress(b.g, "✔ committed and pushed Weir %s to %s/%s (%s)", version, l.Path, bootstrap.Dir, revision)
	return revision, nil
}

func versionOrDev(v string) string {
	if v == "" {
		return "dev"
	}
	return v
}

func sortedKeys[V any](m map[string]V) []string {
	set := make(map[string]bool, len(m))
	for k := range m {
		set[k] = true
	}
	return keys(set)
}

// checkInstalled refuses, before anything changes, a cluster whose Weir runs another version
// and was not bootstrapped (its Deployments do not carry the weir-system Kustomization's
// ownership labels), unless --force; a bootstrapped one is upgraded through Git. Like
// `weir install`, it refuses a Weir in another namespace.
func (b *bootstrapper) checkInstalled(ctx context.Context) error {
	found, err := installedControllers(ctx, b.c)
	if err != nil {
		return err
	}
	ns, want := b.layout.Install.Namespace, versionOrDev(b.layout.Install.Version)
	for _, d := range found {
		if d.Namespace != ns {
			return fmt.Errorf("Weir %s is already installed in namespace %s: bootstrap there (--namespace %s), or remove it first with `weir uninstall --namespace %s`; nothing was changed",
				versionOf(&d), d.Namespace, d.Namespace, d.Namespace)
		}
	}
	for _, d := range found {
		have := versionOf(&d)
		if have == want {
			continue
		}
		if bootstrapped(d.Labels, ns) {
			progress(b.g, "◎ upgrading Weir in %s from %s to %s, through Git", ns, have, want)
			return nil
		}
		if b.force {
			progress(b.g, "◎ replacing Weir %s in %s with %s (--force)", have, ns, want)
			return nil
		}
		return fmt.Errorf("Weir %s runs in %s (Deployment %s), installed otherwise than by weir bootstrap: bootstrapping %s would replace it; bootstrap the running version with --version %s, or pass --force; nothing was changed",
			have, ns, d.Name, want, have)
	}
	return nil
}

// Ownership labels kustomize-controller puts on what a Kustomization applies.
const (
	ownerNameLabel      = "kustomize.weir.dev/name"
	ownerNamespaceLabel = "kustomize.weir.dev/namespace"
)

// bootstrapped reports whether labels say the object is the weir-system Kustomization's.
func bootstrapped(labels map[string]string, ns string) bool {
	return labels[ownerNameLabel] == bootstrap.SyncName && labels[ownerNamespaceLabel] == ns
}
