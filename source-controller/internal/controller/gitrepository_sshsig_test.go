package controller

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"weir.dev/api/meta"
	sourcev1 "weir.dev/api/source/v1"
	"weir.dev/pkg/testenv"
	"weir.dev/source-controller/internal/gittest"
)

// TestGitRepositorySSHVerification: a HEAD commit with an SSH signature by a key of the
// verification Secret (authorized_keys format) verifies and is stored; one signed with another
// SSH key is refused naming the commit and the key, and never becomes the artifact.
func TestGitRepositorySSHVerification(t *testing.T) {
	ns := env.Namespace(t)
	signer, stranger := gittest.NewSSHSigner(t), gittest.NewSSHSigner(t)
	createSecret(t, ns, "keys", map[string][]byte{"team.pub": signer.AuthorizedKey})

	srv := gittest.NewServer(t, gittest.Options{})
	repo := srv.NewRepo(t, "org/app.git", "main", map[string]string{"a.yaml": "a"})
	signed := repo.CommitSigned(map[string]string{"a.yaml": "signed"}, "signed", signer)
	repo.Push()
	obj := createGitRepository(t, ns, "app", srv.URL("org/app.git"), func(o *sourcev1.GitRepository) {
		o.Spec.Verification = &sourcev1.GitRepositoryVerification{Mode: sourcev1.ModeGitHEAD, SecretRef: meta.LocalObjectReference{Name: "keys"}}
	})
	waitRevision(t, obj, "main@sha1:"+signed)
	if err := testenv.CheckCondition(obj, sourcev1.SourceVerifiedCondition, metav1.ConditionTrue, "", "commit by SHA256:"); err != nil {
		t.Error(err)
	}

	bad := repo.CommitSigned(map[string]string{"a.yaml": "stranger"}, "by a stranger", stranger)
	repo.Push()
	requestReconcile(t, obj)
	want := "commit " + bad + " is signed with SSH key SHA256:"
	testenv.Eventually(t, timeout, env.ObjectIn(obj, meta.ReadyCondition, metav1.ConditionFalse, sourcev1.VerificationFailedReason, want))
	if err := testenv.CheckCondition(obj, sourcev1.SourceVerifiedCondition, metav1.ConditionFalse, sourcev1.VerificationFailedReason, "not in the verification secret"); err != nil {
		t.Error(err)
	}
	if obj.Status.Artifact.Revision != "main@sha1:"+signed {
		t.Errorf("an unverified revision became the artifact: %s", obj.Status.Artifact.Revision)
	}
}
