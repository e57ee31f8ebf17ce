package identity

import (
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

const fuzzToken = "kubeconfig-secret-token-0123"

// kubeconfigSeed is a kubeconfig with cluster and user spliced into its cluster and user entries.
func kubeconfigSeed(cluster, user string) []byte {
	return []byte(`apiVersion: v1
kind: Config
current-context: remote
clusters:
- name: prod
  cluster:
    server: https://prod.example:6443
` + cluster + `
contexts:
- name: remote
  context: {cluster: prod, user: deployer, namespace: apps}
users:
- name: deployer
  user:
` + user + "\n")
}

// FuzzParseKubeConfig parses arbitrary bytes as a spec.kubeConfig Secret's kubeconfig. A
// kubeconfig it accepts gives a REST config that reaches a server without reading a local
// file, running a program or skipping TLS verification; a refusal never quotes a token or
// password (unless the same text is also a name, which may be quoted).
func FuzzParseKubeConfig(f *testing.F) {
	f.Add(kubeconfigSeed("", "    token: "+fuzzToken))
	f.Add(kubeconfigSeed("    certificate-authority-data: bm90IGEgY2VydA==", "    username: admin\n    password: "+fuzzToken))
	f.Add(kubeconfigSeed("    certificate-authority: /etc/ca.pem", "    token: "+fuzzToken))
	f.Add(kubeconfigSeed("    insecure-skip-tls-verify: true", "    token: "+fuzzToken))
	f.Add(kubeconfigSeed("", "    tokenFile: /var/run/secrets/token"))
	f.Add(kubeconfigSeed("", "    client-certificate: /tmp/c\n    client-key: /tmp/k"))
	f.Add(kubeconfigSeed("", "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/sh\n      args: [-c, id]"))
	f.Add(kubeconfigSeed("", "    auth-provider:\n      name: gcp\n      config: {access-token: "+fuzzToken+"}"))
	f.Add(kubeconfigSeed("    proxy-url: socks5://"+fuzzToken+"@proxy:1080", "    token: "+fuzzToken))
	f.Add([]byte("apiVersion: v1\nkind: Config\n"))
	f.Add([]byte("{}"))
	f.Add([]byte("current-context: [\n"))

	r := &Resolver{}
	f.Fuzz(func(t *testing.T, raw []byte) {
		cfg, err := r.parseKubeConfig(raw, "Secret 'ns/kc'")
		if err != nil {
			kc, lerr := clientcmd.Load(raw)
			if lerr != nil {
				return
			}
			var names []string
			for name, c := range kc.Clusters {
				names = append(names, name, c.Server, c.ProxyURL, c.TLSServerName, c.CertificateAuthority)
			}
			for name, ctx := range kc.Contexts {
				names = append(names, name, ctx.Cluster, ctx.AuthInfo, ctx.Namespace)
			}
			names = append(names, kc.CurrentContext)
			for name, u := range kc.AuthInfos {
				names = append(names, name, u.Username, u.TokenFile, u.ClientCertificate, u.ClientKey, u.Impersonate)
				if u.Exec != nil {
					names = append(names, u.Exec.Command)
				}
				if u.AuthProvider != nil {
					names = append(names, u.AuthProvider.Name)
				}
			}
			for _, u := range kc.AuthInfos {
				for _, secret := range []string{u.Token, u.Password} {
					if len(secret) < 8 || !strings.Contains(err.Error(), secret) {
						continue
					}
					quotedAsName := false
					for _, n := range names {
						quotedAsName = quotedAsName || strings.Contains(n, secret)
					}
					if !quotedAsName {
						t.Fatalf("the error quotes a credential: %v", err)
					}
				}
			}
			return
		}
		switch {
		case cfg.Host == "":
			t.Fatal("accepted a kubeconfig without a server")
		case cfg.ExecProvider != nil || cfg.AuthProvider != nil:
			t.Fatal("accepted a kubeconfig that runs a plugin")
		case cfg.Insecure:
			t.Fatal("accepted a kubeconfig that skips TLS verification")
		case cfg.CAFile != "" || cfg.CertFile != "" || cfg.KeyFile != "" || cfg.BearerTokenFile != "":
			t.Fatalf("accepted a kubeconfig that reads local files: %q %q %q %q", cfg.CAFile, cfg.CertFile, cfg.KeyFile, cfg.BearerTokenFile)
		}
	})
}
