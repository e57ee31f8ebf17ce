package migrate

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// An Argo CD ApplicationSet with one Git directory generator maps onto a GitRepository and a
// ResourceSet whose template is a Kustomization per directory, rolled out with a canary step
// (one input first, then the rest): the safe default the ApplicationSet did not have. What does
// not map (other generators, Helm or plugin sources, another destination cluster, placeholders
// Weir has no value for) is reported, and the document is then left as it was.

// argoPlaceholder finds Argo's fasttemplate placeholders: {{path}}, {{path.basename}}, {{path[1]}}.
var argoPlaceholder = regexp.MustCompile(`\{\{\s*([^{}]+?)\s*\}\}`)

// appSet is the part of an ApplicationSet the mapping reads.
type appSet struct {
	Metadata struct {
		Name      string `yaml:"name"`
		Namespace string `yaml:"namespace"`
	} `yaml:"metadata"`
	Spec struct {
		GoTemplate bool `yaml:"goTemplate"`
		Generators []struct {
			Git *struct {
				RepoURL     string `yaml:"repoURL"`
				Revision    string `yaml:"revision"`
				Directories []struct {
					Path    string `yaml:"path"`
					Exclude bool   `yaml:"exclude"`
				} `yaml:"directories"`
				Files []any `yaml:"files"`
			} `yaml:"git"`
		} `yaml:"generators"`
		Template struct {
			Metadata struct {
				Name string `yaml:"name"`
			} `yaml:"metadata"`
			Spec struct {
				Source      *appSource `yaml:"source"`
				Sources     []any      `yaml:"sources"`
				Destination struct {
					Server    string `yaml:"server"`
					Name      string `yaml:"name"`
					Namespace string `yaml:"namespace"`
				} `yaml:"destination"`
				SyncPolicy struct {
					Automated *struct {
						Prune bool `yaml:"prune"`
					} `yaml:"automated"`
				} `yaml:"syncPolicy"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

// isApplicationSet reports whether the mapping root is an Argo CD ApplicationSet.
func isApplicationSet(root *yaml.Node) bool {
	return strings.HasPrefix(scalar(root, "apiVersion"), "argoproj.io/") && scalar(root, "kind") == "ApplicationSet"
}

// mapApplicationSet returns the Weir objects for the ApplicationSet root, or the reasons it
// does not map.
func mapApplicationSet(root *yaml.Node) (string, []string) {
	var s appSet
	if err := root.Decode(&s); err != nil {
		return "", []string{fmt.Sprintf("ApplicationSet: %v", err)}
	}
	var problems []string
	if len(s.Spec.Generators) != 1 || s.Spec.Generators[0].Git == nil || len(s.Spec.Generators[0].Git.Directories) == 0 {
		return "", []string{"ApplicationSet " + s.Metadata.Name + ": only a single Git directory generator maps onto a ResourceSet; map it by hand"}
	}
	git := s.Spec.Generators[0].Git
	tpl := s.Spec.Template
	if tpl.Spec.Source == nil || len(tpl.Spec.Sources) > 0 {
		problems = append(problems, "template.spec.source: only a single source maps")
	} else if tpl.Spec.Source.Helm != nil || tpl.Spec.Source.Plugin != nil {
		problems = append(problems, "template.spec.source: Helm and plugin sources do not map (only plain or kustomize directories)")
	} else if tpl.Spec.Source.RepoURL != git.RepoURL {
		problems = append(problems, "template.spec.source.repoURL differs from the generator's repoURL")
	}
	if d := tpl.Spec.Destination; d.Name != "" && d.Name != "in-cluster" || d.Server != "" && d.Server != "https://kubernetes.default.svc" {
		problems = append(problems, "template.spec.destination: only the cluster Weir runs in maps")
	}
	convert := func(field, v string) string {
		out, err := goTemplate(v, s.Spec.GoTemplate)
		if err != "" {
			problems = append(problems, field+": "+err)
		}
		return out
	}
	name := convert("template.metadata.name", tpl.Metadata.Name)
	path := convert("template.spec.source.path", tpl.Spec.Source.pathOr())
	targetNS := convert("template.spec.destination.namespace", tpl.Spec.Destination.Namespace)
	if len(problems) > 0 {
		for i := range problems {
			problems[i] = "ApplicationSet " + s.Metadata.Name + ": " + problems[i]
		}
		return "", problems
	}
	ns := s.Metadata.Namespace
	if ns == "" || ns == "argocd" {
		ns = "weir-system"
	}
	var include, exclude []string
	for _, d := range git.Directories {
		if d.Exclude {
			exclude = append(exclude, d.Path)
		} else {
			include = append(include, d.Path)
		}
	}
	prune := tpl.Spec.SyncPolicy.Automated != nil && tpl.Spec.SyncPolicy.Automated.Prune
	var b strings.Builder
	fmt.Fprintf(&b, "# Mapped by weir migrate from the Argo CD ApplicationSet %s.\n", s.Metadata.Name)
	fmt.Fprintf(&b, "apiVersion: source.weir.dev/v1\nkind: GitRepository\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n  url: %s\n  interval: 5m\n",
		s.Metadata.Name, ns, quoteYAML(git.RepoURL))
	if r := git.Revision; r != "" && r != "HEAD" {
		fmt.Fprintf(&b, "  ref:\n    branch: %s\n", quoteYAML(r))
	}
	fmt.Fprintf(&b, "---\napiVersion: sets.weir.dev/v1\nkind: ResourceSet\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n  interval: 10m\n", s.Metadata.Name, ns)
	fmt.Fprintf(&b, "  sourceRef:\n    kind: GitRepository\n    name: %s\n  generators:\n    - directories:\n        paths: %s\n", s.Metadata.Name, flow(include))
	if len(exclude) > 0 {
		fmt.Fprintf(&b, "        exclude: %s\n", flow(exclude))
	}
	fmt.Fprintf(&b, "  prune: %t\n", prune)
	b.WriteString("  # A template change reaches one directory first; the rest follow once it is Ready.\n")
	b.WriteString("  strategy:\n    steps:\n      - name: canary\n        percentage: 1\n      - name: rest\n")
	b.WriteString("  template: |\n")
	fmt.Fprintf(&b, "    apiVersion: kustomize.weir.dev/v1\n    kind: Kustomization\n    metadata:\n      name: %s\n    spec:\n      interval: 10m\n", name)
	fmt.Fprintf(&b, "      sourceRef:\n        kind: GitRepository\n        name: %s\n      path: %s\n      prune: %t\n", s.Metadata.Name, path, prune)
	if targetNS != "" {
		fmt.Fprintf(&b, "      targetNamespace: %s\n", targetNS)
	}
	return b.String(), nil
}

// appSource is an Application's single source.
type appSource struct {
	RepoURL string `yaml:"repoURL"`
	Path    string `yaml:"path"`
	Helm    any    `yaml:"helm"`
	Plugin  any    `yaml:"plugin"`
}

func (s *appSource) pathOr() string {
	if s == nil {
		return ""
	}
	return s.Path
}

// convertApplicationSets replaces each document of src that is an ApplicationSet mapping onto
// a ResourceSet with the Weir objects, and reports, at its line, each one that does not map.
func convertApplicationSets(file string, src []byte) ([]byte, []Finding) {
	if !bytes.Contains(src, []byte("ApplicationSet")) {
		return src, nil
	}
	var findings []Finding
	lines := strings.SplitAfter(string(src), "\n")
	var out strings.Builder
	start := 0
	flush := func(end int) {
		chunk := strings.Join(lines[start:end], "")
		var doc yaml.Node
		if yaml.Unmarshal([]byte(chunk), &doc) == nil && len(doc.Content) > 0 && doc.Content[0].Kind == yaml.MappingNode && isApplicationSet(doc.Content[0]) {
			mapped, problems := mapApplicationSet(doc.Content[0])
			for _, p := range problems {
				findings = append(findings, Finding{File: file, Line: start + doc.Content[0].Line, Message: p})
			}
			if len(problems) == 0 {
				chunk = mapped
			}
		}
		out.WriteString(chunk)
	}
	for i, l := range lines {
		if strings.TrimRight(l, " \t\r\n") == "---" && i > start {
			flush(i)
			start = i
		}
	}
	flush(len(lines))
	return []byte(out.String()), findings
}

// goTemplate turns Argo's placeholders for a Git directory into the ResourceSet's template
// expressions; it returns a problem for one it has no value for.
func goTemplate(v string, argoGoTemplate bool) (string, string) {
	problem := ""
	out := argoPlaceholder.ReplaceAllStringFunc(v, func(m string) string {
		expr := strings.TrimSpace(m[2 : len(m)-2])
		if argoGoTemplate {
			expr = strings.TrimPrefix(expr, ".")
		}
		switch expr {
		case "path", "path.path":
			return "{{ .path }}"
		case "path.basename":
			return "{{ .basename }}"
		case "path.basenameNormalized":
			return `{{ .basename | lower | replace "_" "-" }}`
		}
		var n int
		if _, err := fmt.Sscanf(expr, "path[%d]", &n); err == nil {
			return fmt.Sprintf("{{ index .segments %d }}", n)
		}
		if _, err := fmt.Sscanf(expr, "path.segments %d", &n); err == nil {
			return fmt.Sprintf("{{ index .segments %d }}", n)
		}
		problem = fmt.Sprintf("placeholder %s has no ResourceSet equivalent", m)
		return m
	})
	return out, problem
}

func flow(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = quoteYAML(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// quoteYAML quotes s as a YAML double-quoted scalar.
func quoteYAML(s string) string {
	var n yaml.Node
	n.SetString(s)
	n.Style = yaml.DoubleQuotedStyle
	b, _ := yaml.Marshal(&n)
	return string(bytes.TrimSpace(b))
}
