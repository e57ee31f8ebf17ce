package manifests_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"weir.dev/pkg/testenv"
)

// unreadFieldExceptions are the CRD spec fields that no Go code outside api/ reads by name,
// reviewed one by one, with why that is right. Each key is "<Kind>:<field path>".
var unreadFieldExceptions = map[string]string{
	"HelmRelease:spec.chartRef.apiVersion":                 "its pattern admits only source.weir.dev versions, and source.weir.dev serves only v1: the kind says it all",
	"HelmChart:spec.verify.trustedRootSecretRef.name":      "trustedRootSecretRef (keyless) is refused as a whole when reconciled (checkVerifySpec): its name is never needed",
	"OCIRepository:spec.verify.trustedRootSecretRef.name":  "trustedRootSecretRef (keyless) is refused as a whole when reconciled (checkVerifySpec): its name is never needed",
	"HelmRelease:spec.dependsOn.apiVersion":                "its CEL rule allows only the kind's own apiVersion (helm.weir.dev/v1, kustomize.weir.dev/v1): the kind says it all",
	"Kustomization:spec.dependsOn.apiVersion":              "its CEL rule allows only the kind's own apiVersion (kustomize.weir.dev/v1, helm.weir.dev/v1): the kind says it all",
	"HelmRelease:spec.syncWindows.kind":                    "read as s.Kind by pkg/gate (windows.go), which gets spec.syncWindows as a parameter",
	"Kustomization:spec.syncWindows.kind":                  "read as s.Kind by pkg/gate (windows.go), which gets spec.syncWindows as a parameter",
	"HelmRelease:spec.valuesFrom.optional":                 "read as ref.Optional by pkg/helm/values, which gets spec.valuesFrom as a parameter",
	"Kustomization:spec.decryption.provider":               "its enum has the one value sops, the only engine",
	"Kustomization:spec.ignoreMissingComponents":           "read by its JSON name: pkg/kustomize/build hands the spec, as unstructured, to fluxcd/pkg/kustomize's generator",
	"Kustomization:spec.namePrefix":                        "read by its JSON name by fluxcd/pkg/kustomize's generator (see ignoreMissingComponents)",
	"Kustomization:spec.nameSuffix":                        "read by its JSON name by fluxcd/pkg/kustomize's generator (see ignoreMissingComponents)",
	"Kustomization:spec.postBuild.substituteFrom.optional": "read by its JSON name by fluxcd/pkg/kustomize's substitution, over the unstructured spec",
	"HelmChart:spec.verify.matchOIDCIdentity.issuer":       "matchOIDCIdentity (keyless) is refused as a whole when reconciled (checkVerifySpec): its entries are never needed",
	"OCIRepository:spec.verify.matchOIDCIdentity.issuer":   "matchOIDCIdentity (keyless) is refused as a whole when reconciled (checkVerifySpec): its entries are never needed",
}

// TestEveryCRDFieldIsRead: every field of every CRD's spec in deploy/crds is read by some Go
// code outside api/ (the controllers, the CLI, pkg), so that no field is accepted and ignored.
//
// Each schema property maps, through the json tags of the types in api/, to a Go field. The
// field counts as read when a non-test, non-generated file outside api/ selects it
// (`.FieldName`), directly or through an api/ method it calls (`obj.UsePersistentClient()`).
// A name that several api/ structs share (Name, SecretRef, ServiceAccountName…) must be
// selected in a file that also selects the field holding its struct (`.Decryption` and
// `.ServiceAccountName`), so that a common name read elsewhere does not hide an ignored field.
// Fields read by their JSON names (the Kustomization spec handed to fluxcd/pkg/kustomize as
// unstructured) are listed in unreadFieldExceptions.
func TestEveryCRDFieldIsRead(t *testing.T) {
	root, err := testenv.FindRepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	api := loadAPITypes(t, filepath.Join(root, "api"))
	var code selectors
	for _, dir := range []string{"source-controller", "kustomize-controller", "helm-controller", "notification-controller", "cli", "pkg"} {
		code.add(t, filepath.Join(root, dir))
	}
	for _, f := range slices.Concat(code.files, code.funcs) {
		api.expandMethods(f)
	}

	crds, err := filepath.Glob(filepath.Join(root, "deploy", "crds", "*_*.yaml"))
	if err != nil || len(crds) == 0 {
		t.Fatalf("no CRDs in deploy/crds (%v)", err)
	}
	seen := map[string]bool{}
	for _, file := range crds {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.Unmarshal(b, &crd); err != nil {
			t.Fatalf("%s: %v", filepath.Base(file), err)
		}
		kind := crd.Spec.Names.Kind
		pkg := "weir.dev/api/" + strings.TrimSuffix(crd.Spec.Group, ".weir.dev")
		for _, v := range crd.Spec.Versions {
			if !v.Storage {
				continue
			}
			spec, ok := v.Schema.OpenAPIV3Schema.Properties["spec"]
			if !ok {
				t.Errorf("%s: no spec in the schema", kind)
				continue
			}
			specType := api.fieldType(pkg+"/"+v.Name, kind, "spec")
			if specType == nil {
				t.Errorf("%s: no Go type %s with a spec field in %s/%s", kind, kind, pkg, v.Name)
				continue
			}
			api.walk(spec, *specType, "spec", "Spec", func(path, parent string, typ goType, field string) {
				key := kind + ":" + path
				seen[key] = true
				if _, ok := unreadFieldExceptions[key]; ok {
					return
				}
				if !api.isRead(code, parent, typ.name, field) {
					t.Errorf("%s %s (Go field %s) is accepted but no code outside api/ reads it: implement it, refuse it (CEL and a Ready=False reason), or remove it", kind, path, field)
				}
			})
		}
	}
	for key := range unreadFieldExceptions {
		if !seen[key] {
			t.Errorf("exception %s names no CRD field: remove it", key)
		}
	}
}

// selectorSet is the names a file or an api/ function selects (`x.Name`).
type selectorSet map[string]bool

// goType is a named struct type in api/: its package's import path and its name.
type goType struct{ pkg, name string }

// goField is one field of an api/ struct: its Go name, json name, and (for a struct of api/)
// its type.
type goField struct {
	name, json string
	inline     bool
	typ        *goType
}

type apiTypes struct {
	structs map[goType][]goField
	// fieldOwners counts the api/ structs that have a field of each Go name.
	fieldOwners map[string]int
	// methods are the selectors each api/ method or function selects, by name.
	methods map[string]selectorSet
}

// loadAPITypes parses the non-test, non-generated Go files under dir (the api module).
func loadAPITypes(t *testing.T, dir string) *apiTypes {
	t.Helper()
	a := &apiTypes{structs: map[goType][]goField{}, fieldOwners: map[string]int{}, methods: map[string]selectorSet{}}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		pkgPath := "weir.dev/api"
		if rel != "." {
			pkgPath += "/" + filepath.ToSlash(rel)
		}
		for _, file := range goFiles(t, p) {
			imports := map[string]string{}
			for _, im := range file.Imports {
				path, _ := strconv.Unquote(im.Path.Value)
				name := filepath.Base(path)
				if im.Name != nil {
					name = im.Name.Name
				}
				imports[name] = path
			}
			for _, decl := range file.Decls {
				switch d := decl.(type) {
				case *ast.GenDecl:
					for _, s := range d.Specs {
						ts, ok := s.(*ast.TypeSpec)
						if !ok {
							continue
						}
						st, ok := ts.Type.(*ast.StructType)
						if !ok {
							continue
						}
						a.structs[goType{pkgPath, ts.Name.Name}] = a.fields(st, pkgPath, imports)
					}
				case *ast.FuncDecl:
					set := selectorSet{}
					collectSelectors(d, set)
					a.methods[d.Name.Name] = set
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (a *apiTypes) fields(st *ast.StructType, pkgPath string, imports map[string]string) []goField {
	var out []goField
	for _, f := range st.Fields.List {
		tag := ""
		if f.Tag != nil {
			s, _ := strconv.Unquote(f.Tag.Value)
			tag = reflect.StructTag(s).Get("json")
		}
		jsonName, opts, _ := strings.Cut(tag, ",")
		inline := slices.Contains(strings.Split(opts, ","), "inline")
		typ := a.resolve(f.Type, pkgPath, imports)
		names := f.Names
		if len(names) == 0 { // embedded
			if typ != nil {
				names = []*ast.Ident{ast.NewIdent(typ.name)}
			}
			inline = inline || jsonName == ""
		}
		for _, n := range names {
			a.fieldOwners[n.Name]++
			out = append(out, goField{name: n.Name, json: jsonName, inline: inline, typ: typ})
		}
	}
	return out
}

// resolve returns the api/ struct a field's type expression names, through pointers, slices
// and maps; nil for any other type.
func (a *apiTypes) resolve(e ast.Expr, pkgPath string, imports map[string]string) *goType {
	switch e := e.(type) {
	case *ast.StarExpr:
		return a.resolve(e.X, pkgPath, imports)
	case *ast.ArrayType:
		return a.resolve(e.Elt, pkgPath, imports)
	case *ast.MapType:
		return a.resolve(e.Value, pkgPath, imports)
	case *ast.Ident:
		return &goType{pkgPath, e.Name}
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok && strings.HasPrefix(imports[x.Name], "weir.dev/api/") {
			return &goType{imports[x.Name], e.Sel.Name}
		}
	}
	return nil
}

// fieldType returns the api/ struct type of the field json of struct pkg.name.
func (a *apiTypes) fieldType(pkg, name, json string) *goType {
	for _, f := range a.structs[goType{pkg, name}] {
		if f.json == json {
			return f.typ
		}
	}
	return nil
}

// lookup finds the field with the json name in t, through inline fields.
func (a *apiTypes) lookup(t goType, json string) (goField, bool) {
	for _, f := range a.structs[t] {
		if f.inline && f.typ != nil {
			if g, ok := a.lookup(*f.typ, json); ok {
				return g, true
			}
			continue
		}
		if f.json == json {
			return f, true
		}
	}
	return goField{}, false
}

// walk calls visit for every property under the schema s of Go type t (the field parent), with
// its path, the Go name of the field holding t, t, and its own Go name.
func (a *apiTypes) walk(s apiextensionsv1.JSONSchemaProps, t goType, path, parent string, visit func(path, parent string, t goType, field string)) {
	if s.Items != nil && s.Items.Schema != nil {
		s = *s.Items.Schema
	}
	if _, ok := a.structs[t]; !ok {
		return // not a struct of api/: a Kubernetes type, or a named scalar
	}
	names := make([]string, 0, len(s.Properties))
	for name := range s.Properties {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		p := path + "." + name
		f, ok := a.lookup(t, name)
		if !ok {
			visit(p, parent, t, "<no Go field with json name "+name+" in "+t.name+">")
			continue
		}
		visit(p, parent, t, f.name)
		if f.typ != nil {
			a.walk(s.Properties[name], *f.typ, p, f.name, visit)
		}
	}
}

// expandMethods adds to f, transitively, what the api/ methods and functions it calls select.
func (a *apiTypes) expandMethods(f selectorSet) {
	for changed := true; changed; {
		changed = false
		for name := range f {
			for sel := range a.methods[name] {
				if !f[sel] {
					f[sel] = true
					changed = true
				}
			}
		}
	}
}

// isRead reports whether the code selects field. When several api/ structs have a field of
// that name, it must be selected together with parent (the field holding field's struct typ):
// in one function, or in one file that also names typ (`helmv1.ActionStrategy`, a parameter's
// type), as code reading a struct it was handed does.
func (a *apiTypes) isRead(code selectors, parent, typ, field string) bool {
	unique := a.fieldOwners[field] <= 1
	for _, f := range code.funcs {
		if f[field] && (unique || f[parent]) {
			return true
		}
	}
	for _, f := range code.files {
		if f[field] && (unique || f[parent] && f[typ]) {
			return true
		}
	}
	return false
}

// selectors are the names each file and each function of some code selects.
type selectors struct{ files, funcs []selectorSet }

// add adds the non-test, non-generated Go files under dir.
func (c *selectors) add(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if name := d.Name(); p != dir && (name == "testdata" || strings.HasPrefix(name, ".") || name == "node_modules") {
			return filepath.SkipDir
		}
		for _, file := range goFiles(t, p) {
			all := selectorSet{}
			collectSelectors(file, all)
			c.files = append(c.files, all)
			for _, decl := range file.Decls {
				fn := selectorSet{}
				collectSelectors(decl, fn)
				c.funcs = append(c.funcs, fn)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// collectSelectors adds the names n selects to set, except where it only writes them (the last
// name of an assignment's left-hand side: `ks.Spec.ServiceAccountName = sa` reads Spec, not
// ServiceAccountName).
func collectSelectors(n ast.Node, set selectorSet) {
	written := map[*ast.SelectorExpr]bool{}
	ast.Inspect(n, func(n ast.Node) bool {
		if a, ok := n.(*ast.AssignStmt); ok {
			for _, lhs := range a.Lhs {
				if s, ok := lhs.(*ast.SelectorExpr); ok {
					written[s] = true
				}
			}
		}
		if s, ok := n.(*ast.SelectorExpr); ok && !written[s] {
			set[s.Sel.Name] = true
		}
		return true
	})
}

// goFiles parses the non-test, non-generated Go files of dir (not its subdirectories).
func goFiles(t *testing.T, dir string) []*ast.File {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []*ast.File
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") || strings.HasPrefix(name, "zz_generated") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}
