package controller

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"

	"github.com/fluxcd/pkg/runtime/conditions"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/steps"
	"weir.dev/source-controller/internal/git"
)

// gitScope is what the GitRepository steps share. Each field names the step that fills it.
type gitScope struct {
	obj *sourcev1.GitRepository

	url *url.URL // validateSpec

	auth  *git.Auth              // reconcileAuth; nil for anonymous access
	proxy transport.ProxyOptions // reconcileAuth

	includes []*meta.Artifact // reconcileInclude: the included artifacts, in spec order

	target git.Target // reconcileRemote

	dir    string            // reconcileCheckout: the worktree
	gitDir string            // reconcileCheckout: the bare repository behind a mirrored worktree
	mirror *git.Mirror       // reconcileCheckout: dir's mirror, when the worktree is kept
	ok     bool              // reconcileArtifact: the mirror holds a complete worktree
	repo   *gogit.Repository // reconcileCheckout
	commit *object.Commit    // reconcileCheckout
	pinned bool              // reconcileRemote: spec.ref.commit is set

	verifiedBy string // reconcileVerification: the signing key's ID
}

// validateSpec checks what the schema cannot: the URL parses and carries no password, and the
// reference names are valid Git reference names. Failures stall: only a spec change fixes them.
func (r *GitRepositoryReconciler) validateSpec(_ context.Context, sc *gitScope) error {
	u, err := url.Parse(sc.obj.Spec.URL)
	if err != nil || u.Host == "" {
		return steps.Stalled(sourcev1.URLInvalidReason, fmt.Errorf("spec.url is not a valid URL"))
	}
	if _, ok := u.User.Password(); ok {
		return steps.Stalled(sourcev1.URLInvalidReason, fmt.Errorf("spec.url must not carry a password: put credentials in the secret spec.secretRef names"))
	}
	sc.url = u
	if err := gitReference(sc.obj).Validate(); err != nil {
		return steps.Stalled(sourcev1.InvalidReferenceReason, err)
	}
	return nil
}

// reconcileAuth reads the credentials and proxy Secrets. A missing Secret or key sets
// FetchFailed and is retried, since the Secret may be created later.
func (r *GitRepositoryReconciler) reconcileAuth(ctx context.Context, sc *gitScope) error {
	spec := sc.obj.Spec
	if spec.SecretRef != nil {
		data, err := secretData(ctx, r.Client, sc.obj.Namespace, spec.SecretRef.Name)
		if err != nil {
			return r.fetchFailed(sc, meta.AuthenticationFailedReason, err)
		}
		if sc.auth, err = git.AuthFromSecretData(sc.url, data); err != nil {
			return r.fetchFailed(sc, meta.AuthenticationFailedReason, fmt.Errorf("secret '%s': %w", spec.SecretRef.Name, err))
		}
	} else if sc.url.Scheme == "ssh" {
		return steps.Stalled(meta.AuthenticationFailedReason, errors.New("an ssh URL needs spec.secretRef with an identity and known_hosts"))
	}
	if spec.ProxySecretRef != nil {
		data, err := secretData(ctx, r.Client, sc.obj.Namespace, spec.ProxySecretRef.Name)
		if err != nil {
			return r.fetchFailed(sc, meta.AuthenticationFailedReason, err)
		}
		if len(data["address"]) == 0 {
			return r.fetchFailed(sc, meta.AuthenticationFailedReason, fmt.Errorf("proxy secret '%s' has no 'address' key", spec.ProxySecretRef.Name))
		}
		sc.proxy = transport.ProxyOptions{URL: string(data["address"]), Username: string(data["username"]), Password: string(data["password"])}
	}
	return nil
}

// reconcileInclude collects the artifacts of the included GitRepositories. One without an
// artifact sets IncludeUnavailable and the object waits for it.
func (r *GitRepositoryReconciler) reconcileInclude(ctx context.Context, sc *gitScope) error {
	sc.includes = nil
	for _, inc := range sc.obj.Spec.Include {
		var dep sourcev1.GitRepository
		key := client.ObjectKey{Namespace: sc.obj.Namespace, Name: inc.GitRepositoryRef.Name}
		err := r.Get(ctx, key, &dep)
		if err == nil && dep.Status.Artifact == nil {
			err = errors.New("it has no artifact yet")
		}
		if err != nil {
			if apierrors.IsNotFound(err) {
				err = errors.New("it does not exist")
			}
			err = fmt.Errorf("included GitRepository '%s': %w", key.Name, err)
			conditions.MarkTrue(sc.obj, sourcev1.IncludeUnavailableCondition, meta.DependencyNotReadyReason, "%s", err)
			return steps.Waiting(meta.DependencyNotReadyReason, r.DependencyRequeue, err)
		}
		sc.includes = append(sc.includes, dep.Status.Artifact.DeepCopy())
	}
	conditions.Delete(sc.obj, sourcev1.IncludeUnavailableCondition)
	return nil
}

// reconcileRemote resolves the reference with one ls-remote. When the current artifact was
// built from the same commit with the same spec and includes, and is still in storage with the
// bytes its digest records, the run stops here: an unchanged repository is never cloned.
func (r *GitRepositoryReconciler) reconcileRemote(ctx context.Context, sc *gitScope) error {
	ctx, cancel := context.WithTimeout(ctx, gitTimeout(sc.obj))
	defer cancel()
	sc.pinned = sc.obj.Spec.Reference != nil && sc.obj.Spec.Reference.Commit != ""
	t, err := git.Resolve(ctx, sc.url, sc.auth, git.Options{Proxy: sc.proxy}, gitReference(sc.obj))
	if err != nil {
		return r.fetchFailed(sc, gitFailureReason(err), err)
	}
	sc.target = t
	if artifactUpToDate(sc.obj, t.Revision(), sc.includes) && storedArtifactIntact(r.Storage, r.EventRecorder, sc.obj, *sc.obj.Status.Artifact) {
		conditions.Delete(sc.obj, sourcev1.FetchFailedCondition)
		return steps.ErrStop
	}
	return nil
}

// reconcileCheckout fetches the target and writes its worktree: into the GitRepository's
// mirror of the last revision (only the files that changed), or, when it includes other
// repositories (copied into the worktree) or checks out submodules, into a fresh directory.
func (r *GitRepositoryReconciler) reconcileCheckout(ctx context.Context, sc *gitScope) error {
	ctx, cancel := context.WithTimeout(ctx, gitTimeout(sc.obj))
	defer cancel()
	obj := sc.obj
	opts := git.Options{Proxy: sc.proxy, SparseCheckout: obj.Spec.SparseCheckout, RecurseSubmodules: obj.Spec.RecurseSubmodules}
	dir, err := os.MkdirTemp("", "gitrepository-")
	if err != nil {
		return steps.Failed(sourcev1.StorageOperationFailedReason, err)
	}
	if len(obj.Spec.Include) > 0 || obj.Spec.RecurseSubmodules {
		sc.dir = dir
		sc.repo, sc.commit, err = git.Checkout(ctx, dir, sc.url, sc.auth, opts, &sc.target, sc.pinned)
	} else {
		sc.gitDir = dir
		sc.repo, sc.commit, err = git.Fetch(ctx, dir, sc.url, sc.auth, opts, &sc.target, sc.pinned)
	}
	if err != nil {
		return r.fetchFailed(sc, gitFailureReason(err), err)
	}
	if sc.gitDir != "" {
		key := obj.Namespace + "/" + obj.Name
		sc.mirror = r.mirrors.take(key, fmt.Sprintf("%s %q", sc.url, obj.Spec.SparseCheckout))
		sc.dir = sc.mirror.Dir
		if err := sc.mirror.Write(sc.commit, obj.Spec.SparseCheckout); err != nil {
			return steps.Failed(sourcev1.StorageOperationFailedReason, fmt.Errorf("writing the worktree of %s: %w", sc.target.Commit, err))
		}
		sc.ok = true
	}
	conditions.Delete(obj, sourcev1.FetchFailedCondition)
	return nil
}

// cleanup removes what the run fetched, and gives the mirror back (dropped unless it was
// written completely).
func (r *GitRepositoryReconciler) cleanup(sc *gitScope) {
	if sc.mirror != nil {
		r.mirrors.put(sc.obj.Namespace+"/"+sc.obj.Name, sc.mirror, sc.ok)
	} else if sc.dir != "" {
		_ = os.RemoveAll(sc.dir)
	}
	if sc.gitDir != "" {
		_ = os.RemoveAll(sc.gitDir)
	}
}

// reconcileVerification checks the OpenPGP or SSH signatures spec.verify asks for and sets
// SourceVerified. An unverified revision never becomes the artifact.
func (r *GitRepositoryReconciler) reconcileVerification(ctx context.Context, sc *gitScope) error {
	v := sc.obj.Spec.Verification
	if v == nil {
		conditions.Delete(sc.obj, sourcev1.SourceVerifiedCondition)
		return nil
	}
	fail := func(err error) error {
		conditions.MarkFalse(sc.obj, sourcev1.SourceVerifiedCondition, sourcev1.VerificationFailedReason, "%s", err)
		return steps.Failed(sourcev1.VerificationFailedReason, err)
	}
	keys, err := secretData(ctx, r.Client, sc.obj.Namespace, v.SecretRef.Name)
	if err != nil {
		return fail(err)
	}
	var ids []string
	if v.Mode == sourcev1.ModeGitTag || v.Mode == sourcev1.ModeGitTagAndHEAD {
		if !sc.target.RefName.IsTag() {
			return fail(fmt.Errorf("spec.verify.mode %s needs spec.ref.tag or spec.ref.semver", v.Mode))
		}
		id, err := git.VerifyTag(sc.repo, sc.target.TagObject, keys)
		if err != nil {
			return fail(err)
		}
		ids = append(ids, "tag by "+id)
	}
	if v.Mode == "" || v.Mode == sourcev1.ModeGitHEAD || v.Mode == sourcev1.ModeGitTagAndHEAD {
		id, err := git.VerifyCommit(sc.commit, keys)
		if err != nil {
			return fail(err)
		}
		ids = append(ids, "commit by "+id)
	}
	sc.verifiedBy = fmt.Sprint(ids)
	conditions.MarkTrue(sc.obj, sourcev1.SourceVerifiedCondition, meta.SucceededReason, "verified signature of %s %v", sc.target.Revision(), ids)
	return nil
}

// fetchFailed sets FetchFailed and classifies err: a missing reference or failed
// authentication is retried with backoff like any transient failure.
func (r *GitRepositoryReconciler) fetchFailed(sc *gitScope, reason string, err error) error {
	conditions.MarkTrue(sc.obj, sourcev1.FetchFailedCondition, reason, "%s", err)
	return steps.Failed(reason, err)
}

// gitFailureReason maps the git package's errors to condition reasons.
func gitFailureReason(err error) string {
	switch {
	case errors.Is(err, git.ErrAuthentication):
		return meta.AuthenticationFailedReason
	case errors.Is(err, git.ErrReferenceNotFound):
		return sourcev1.ReferenceNotFoundReason
	default:
		return sourcev1.GitOperationFailedReason
	}
}

// gitReference maps spec.ref to the git package's Reference.
func gitReference(obj *sourcev1.GitRepository) git.Reference {
	ref := obj.Spec.Reference
	if ref == nil {
		return git.Reference{}
	}
	return git.Reference{Branch: ref.Branch, Tag: ref.Tag, SemVer: ref.SemVer, Name: ref.Name, Commit: ref.Commit}
}
