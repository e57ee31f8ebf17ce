package migrate

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestFilesFluxSet(t *testing.T) {
	files, err := Files("testdata/flux")
	if err != nil {
		t.Fatal(err)
	}
	byRel := map[string]*File{}
	var findings []string
	for _, f := range files {
		byRel[filepath.ToSlash(f.Rel)] = f
		for _, fd := range f.Findings {
			findings = append(findings, strings.TrimPrefix(filepath.ToSlash(fd.String()), "testdata/flux/"))
		}
	}

	wantRelease := `apiVersion: helm.weir.dev/v1
kind: HelmRelease
metadata:
  name: podinfo
  namespace: apps
  annotations:
    kustomize.weir.dev/prune: disabled
    reconcile.weir.dev/forceAt: "1"
spec:
  interval: 30m
  chart:
    spec:
      chart: podinfo
      version: "6.x"
      sourceRef:
        kind: HelmRepository
        name: podinfo
        namespace: flux-system
  values:
    replicaCount: 2
`
	if got := string(byRel["apps/release.yaml"].Migrated); got != wantRelease {
		t.Errorf("apps/release.yaml:\n%s\nwant:\n%s", got, wantRelease)
	}

	for rel, wants := range map[string][]string{
		"sources.yaml": {
			"# The platform repository, polled every minute.\n---\napiVersion: source.weir.dev/v1\nkind: GitRepository",
			`    reconcile.weir.dev/requestedAt: "2024-05-01T10:00:00Z"  # last manual sync`,
			"apiVersion: source.weir.dev/v1\nkind: HelmRepository",
		},
		"apps/kustomization.yaml": {
			"apiVersion: kustomize.weir.dev/v1\n", "    sharding.weir.dev/key: shard1\n",
			"      kustomize.weir.dev/ssa: Merge\n", "        group: helm.weir.dev\n",
		},
		"alerts.yaml": {"apiVersion: notification.weir.dev/v1\nkind: Provider", "apiVersion: notification.weir.dev/v1\nkind: Alert"},
	} {
		got := string(byRel[rel].Migrated)
		for _, want := range wants {
			if !strings.Contains(got, want) {
				t.Errorf("%s lacks %q:\n%s", rel, want, got)
			}
		}
		if strings.Contains(strings.ReplaceAll(got, "kustomize.toolkit.fluxcd.io~1prune", ""), "fluxcd.io") {
			t.Errorf("%s still names Flux:\n%s", rel, got)
		}
	}
	if f := byRel["image.yaml"]; f.Changed() {
		t.Errorf("image.yaml, which does not map, was changed:\n%s", f.Migrated)
	}

	want := []string{
		"apps/kustomization.yaml:25: kustomize.toolkit.fluxcd.io~1prune in a string is not rewritten: change it by hand",
		"image.yaml:1: apiVersion image.toolkit.fluxcd.io/v1beta2 (kind ImageUpdateAutomation) has no Weir equivalent",
		"image.yaml:7: kustomize.toolkit.fluxcd.io/reconcile has no Weir equivalent",
		`sources.yaml:15: unknown field "spec.gitImplementation": Weir's GitRepository has no such field`,
	}
	slices.Sort(findings)
	if !slices.Equal(findings, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(findings, "\n"), strings.Join(want, "\n"))
	}
}

func TestRewrite(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		findings       []string
	}{{
		name: "flow mappings and quoted keys keep their layout",
		in:   "apiVersion: 'kustomize.toolkit.fluxcd.io/v1'\nkind: Kustomization\nmetadata: {name: a, annotations: {kustomize.toolkit.fluxcd.io/ssa: Merge, \"kustomize.toolkit.fluxcd.io/prune\": disabled}}\nspec: {interval: 1m, prune: true, sourceRef: {kind: OCIRepository, name: o, apiVersion: source.toolkit.fluxcd.io/v1beta2}}\n",
		want: "apiVersion: 'kustomize.weir.dev/v1'\nkind: Kustomization\nmetadata: {name: a, annotations: {kustomize.weir.dev/ssa: Merge, \"kustomize.weir.dev/prune\": disabled}}\nspec: {interval: 1m, prune: true, sourceRef: {kind: OCIRepository, name: o, apiVersion: source.weir.dev/v1}}\n",
	}, {
		name: "objects that are not Flux's stay as they are, URLs included",
		in:   "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [deploy.yaml]\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: docs\n  labels: {app: web}\ndata:\n  url: https://fluxcd.io/flux/components/\n",
		want: "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [deploy.yaml]\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: docs\n  labels: {app: web}\ndata:\n  url: https://fluxcd.io/flux/components/\n",
	}, {
		name: "Flux 2.7's ArtifactGenerator and the Kustomizations of its ExternalArtifacts",
		in: "apiVersion: source.extensions.fluxcd.io/v1beta1\nkind: ArtifactGenerator\nmetadata: {name: fleet, namespace: flux-system}\n" +
			"spec:\n  sources:\n    - {alias: repo, kind: GitRepository, name: fleet}\n  artifacts:\n    - name: apps\n      originRevision: '@repo'\n" +
			"      copy:\n        - {from: '@repo/apps/**', to: '@artifact/', exclude: ['*.md'], strategy: Overwrite}\n" +
			"---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps, namespace: flux-system}\n" +
			"spec: {interval: 1h, path: ./, prune: true, sourceRef: {kind: ExternalArtifact, name: apps}}\n" +
			"---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: ExternalArtifact\nmetadata: {name: x}\nspec: {sourceRef: {apiVersion: example.com/v1, kind: Source, name: s}}\n" +
			"---\napiVersion: source.extensions.fluxcd.io/v1beta1\nkind: ArtifactGenerator\nmetadata: {name: other}\n" +
			"spec:\n  sources: [{alias: repo, kind: GitRepository, name: fleet, namespace: infra}]\n  artifacts: [{name: b, copy: [{from: '@repo/b/', to: '@artifact/'}]}]\n",
		want: "apiVersion: source.weir.dev/v1\nkind: ArtifactGenerator\nmetadata: {name: fleet, namespace: flux-system}\n" +
			"spec:\n  sources:\n    - {alias: repo, kind: GitRepository, name: fleet}\n  artifacts:\n    - name: apps\n      originRevision: '@repo'\n" +
			"      copy:\n        - {from: '@repo/apps/**', to: '@artifact/', exclude: ['*.md'], strategy: Overwrite}\n" +
			"---\napiVersion: kustomize.weir.dev/v1\nkind: Kustomization\nmetadata: {name: apps, namespace: flux-system}\n" +
			"spec: {interval: 1h, path: ./, prune: true, sourceRef: {kind: ExternalArtifact, name: apps}}\n" +
			"---\napiVersion: source.weir.dev/v1\nkind: ExternalArtifact\nmetadata: {name: x}\nspec: {sourceRef: {apiVersion: example.com/v1, kind: Source, name: s}}\n" +
			"---\napiVersion: source.weir.dev/v1\nkind: ArtifactGenerator\nmetadata: {name: other}\n" +
			"spec:\n  sources: [{alias: repo, kind: GitRepository, name: fleet, namespace: infra}]\n  artifacts: [{name: b, copy: [{from: '@repo/b/', to: '@artifact/'}]}]\n",
		findings: []string{`f.yaml:27: unknown field "spec.sources[0].namespace": Weir's ArtifactGenerator has no such field`},
	}, {
		name:     "a kind Weir lacks in a Flux group",
		in:       "apiVersion: source.toolkit.fluxcd.io/v1\nkind: Bucket\nmetadata:\n  name: b\n",
		want:     "apiVersion: source.toolkit.fluxcd.io/v1\nkind: Bucket\nmetadata:\n  name: b\n",
		findings: []string{"f.yaml:1: kind Bucket of source.toolkit.fluxcd.io has no Weir equivalent (Weir has GitRepository, OCIRepository, HelmRepository, HelmChart, ExternalArtifact)"},
	}, {
		// Found by FuzzRewrite: the value is not written as it is anywhere in the text.
		name:     "an apiVersion folded over two lines is left to the user",
		in:       "apiVersion: kustomize.toolkit.fluxcd.io/\n  v1\nkind: Kustomization\n",
		want:     "apiVersion: kustomize.toolkit.fluxcd.io/\n  v1\nkind: Kustomization\n",
		findings: []string{`f.yaml:1: "kustomize.toolkit.fluxcd.io/ v1" is written over several lines or with escapes: change it to kustomize.weir.dev/v1 by hand`},
	}, {
		name: "fields Weir removed are dropped with a warning, comments and neighbours kept",
		in: "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: r\nspec:\n  url: https://charts.example.com\n  accessFrom:\n    namespaceSelectors:\n      - matchLabels:\n          kubernetes.io/metadata.name: apps\n  # polled hourly\n  interval: 1h\n" +
			"---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: k}\nspec:\n  interval: 1m\n  sourceRef: {kind: GitRepository, name: g}\n  decryption:\n    provider: sops\n    serviceAccountName: kms-reader\n    secretRef: {name: keys}\n",
		want: "apiVersion: source.weir.dev/v1\nkind: HelmRepository\nmetadata:\n  name: r\nspec:\n  url: https://charts.example.com\n  # polled hourly\n  interval: 1h\n" +
			"---\napiVersion: kustomize.weir.dev/v1\nkind: Kustomization\nmetadata: {name: k}\nspec:\n  interval: 1m\n  sourceRef: {kind: GitRepository, name: g}\n  decryption:\n    provider: sops\n    secretRef: {name: keys}\n",
		findings: []string{
			"f.yaml:7: spec.accessFrom removed: Weir has no cross-namespace access lists: a HelmChart uses only a HelmRepository in its own namespace",
			"f.yaml:22: spec.decryption.serviceAccountName removed: cloud KMS with workload identity is not supported: decryption uses the age and OpenPGP keys of spec.decryption.secretRef",
		},
	}, {
		name:     "a cloud provider Weir refuses is reported",
		in:       "apiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: OCIRepository\nmetadata: {name: o}\nspec:\n  url: oci://123456789000.dkr.ecr.eu-west-1.amazonaws.com/app\n  provider: aws\n",
		want:     "apiVersion: source.weir.dev/v1\nkind: OCIRepository\nmetadata: {name: o}\nspec:\n  url: oci://123456789000.dkr.ecr.eu-west-1.amazonaws.com/app\n  provider: aws\n",
		findings: []string{"f.yaml:6: spec.provider aws is not supported by Weir (cloud workload identity is not supported: use generic with a registry credentials Secret in spec.secretRef)"},
	}, {
		name:     "a removed field in a flow mapping is left to the user",
		in:       "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmChart\nmetadata: {name: c}\nspec: {chart: app, sourceRef: {kind: HelmRepository, name: r}, accessFrom: {namespaceSelectors: []}}\n",
		want:     "apiVersion: source.weir.dev/v1\nkind: HelmChart\nmetadata: {name: c}\nspec: {chart: app, sourceRef: {kind: HelmRepository, name: r}, accessFrom: {namespaceSelectors: []}}\n",
		findings: []string{"f.yaml:4: spec.accessFrom is not supported by Weir (Weir has no cross-namespace access lists: a HelmChart uses only a HelmRepository in its own namespace): remove it by hand"},
	}, {
		name:     "not YAML",
		in:       "apiVersion: [\n",
		want:     "apiVersion: [\n",
		findings: []string{"f.yaml: not YAML: yaml: line 1: did not find expected node content"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			out, findings := Rewrite("f.yaml", []byte(tc.in))
			if string(out) != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", out, tc.want)
			}
			var got []string
			for _, f := range findings {
				got = append(got, f.String())
			}
			if !slices.Equal(got, tc.findings) {
				t.Errorf("findings %q, want %q", got, tc.findings)
			}
		})
	}
}
