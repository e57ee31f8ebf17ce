package local

// sampleRepo is the demo's Git repository: an app as plain YAML in app/, with the
// kustomization.yaml that lets an overlay use it as a base, and a kustomize overlay of it in
// overlays/staging.
var sampleRepo = map[string]string{
	"README.md": `# Weir demo

- app/: a ConfigMap and a Deployment as plain YAML, applied by the Kustomization "app".
- overlays/staging/: a kustomize overlay of app/, applied by the Kustomization "app-staging".

Change a file, commit and push: Weir applies it within a minute, or at once after a POST to
the Receiver's URL that weir local up printed.
`,
	"app/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - configmap.yaml
  - deployment.yaml
`,
	"app/configmap.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: podinfo-config
data:
  message: "Hello from Weir"
`,
	"app/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  labels:
    app: podinfo
spec:
  replicas: 1
  selector:
    matchLabels:
      app: podinfo
  template:
    metadata:
      labels:
        app: podinfo
    spec:
      containers:
        - name: podinfo
          image: ghcr.io/stefanprodan/podinfo:6.7.1
          ports:
            - containerPort: 9898
          envFrom:
            - configMapRef:
                name: podinfo-config
`,
	"overlays/staging/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namePrefix: staging-
labels:
  - pairs:
      env: staging
    includeSelectors: true
resources:
  - ../../app
patches:
  - target:
      kind: ConfigMap
      name: podinfo-config
    patch: |-
      - op: replace
        path: /data/message
        value: "Hello from Weir's staging overlay"
`,
}
