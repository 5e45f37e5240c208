package helm

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

func TestCharts(t *testing.T) {
	got, err := Charts(fixtures)
	if err != nil {
		t.Fatal(err)
	}
	// umbrella/charts/worker is a subchart, not a chart of its own.
	want := []string{"broken", "needs-dep", "node-agent", "storefront", "umbrella", "webapp"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestRender(t *testing.T) {
	objs, err := Renderer{Repo: fixtures, Release: "shop", Namespace: "prod"}.Render("webapp")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, o.Source+" "+o.Ref.Kind+"/"+o.Ref.Name+" "+o.Template)
		if o.Pos.File != o.Template || o.Pos.Line != 0 {
			t.Errorf("%s: position %+v", o.Source, o.Pos)
		}
	}
	want := []string{
		"webapp/templates/deployment.yaml Deployment/shop-webapp webapp/templates/deployment.yaml",
		"webapp/templates/service.yaml Service/shop-webapp webapp/templates/service.yaml",
		"webapp/templates/serviceaccount.yaml ServiceAccount/shop-webapp webapp/templates/serviceaccount.yaml",
		"webapp/templates/tests/test-connection.yaml Pod/shop-webapp-test-connection webapp/templates/tests/test-connection.yaml",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if objs[3].Hook != "test" {
		t.Errorf("hook %q", objs[3].Hook)
	}
	// --skip-tests
	objs, err = Renderer{Repo: fixtures, SkipTests: true}.Render("webapp")
	if err != nil || len(objs) != 3 {
		t.Errorf("skip tests: %v, %d objects", err, len(objs))
	}

	// A subchart's objects name their template below charts/.
	objs, err = Renderer{Repo: fixtures}.Render("umbrella")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 || objs[0].Template != "umbrella/charts/worker/templates/deployment.yaml" || objs[0].Source != "umbrella/charts/worker/templates/deployment.yaml" {
		t.Errorf("umbrella: %+v", objs)
	}
}

// TestRenderPrecedence: values apply in order, later ones winning, over
// the chart's values.yaml.
func TestRenderPrecedence(t *testing.T) {
	replicas := func(sources ...ValuesSource) string {
		t.Helper()
		objs, err := Renderer{Repo: fixtures}.Render("storefront", sources...)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			if o.Ref.Kind == "Deployment" {
				n, _ := o.Node.Pipe(yaml.Lookup("spec", "replicas"))
				return n.YNode().Value
			}
		}
		t.Fatal("no Deployment")
		return ""
	}
	prod := ValuesFile("storefront/values-prod.yaml")
	seven := Literal("parameters", map[string]any{"replicaCount": 7})
	for _, tt := range []struct {
		name    string
		sources []ValuesSource
		want    string
	}{
		{"chart values", nil, "2"},
		{"values file", []ValuesSource{prod}, "4"},
		{"file then literal", []ValuesSource{prod, seven}, "7"},
		{"literal then file", []ValuesSource{seven, prod}, "4"},
		{"inline", []ValuesSource{InlineValues("flux/webapp.yaml", 1, "spec", "values")}, "3"},
		{"missing inline node", []ValuesSource{InlineValues("flux/webapp.yaml", 1, "spec", "nothing")}, "2"},
	} {
		if got := replicas(tt.sources...); got != tt.want {
			t.Errorf("%s: %s replicas, want %s", tt.name, got, tt.want)
		}
	}
}

// TestRenderErrors: template errors name the template file and line.
func TestRenderErrors(t *testing.T) {
	repo := t.TempDir()
	writeTree(t, repo, map[string]string{
		"exec/Chart.yaml":        "apiVersion: v2\nname: exec\nversion: 0.1.0\n",
		"exec/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: {{ .Values.missing.key }}\n",
		"fail/Chart.yaml":        "apiVersion: v2\nname: fail\nversion: 0.1.0\n",
		"fail/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n{{ fail \"set a password\" }}\n",
		"bad/Chart.yaml":         "apiVersion: v2\nname: bad\nversion: 0.1.0\n",
		"bad/templates/cm.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: [unclosed\n",
		"lib/Chart.yaml":         "apiVersion: v2\nname: lib\nversion: 0.1.0\ntype: library\n",
	})
	for _, tt := range []struct {
		chart  string
		file   string
		line   int
		output bool
		msg    string
	}{
		{"exec", "exec/templates/cm.yaml", 6, false, "nil pointer"},
		{"fail", "fail/templates/cm.yaml", 5, false, "set a password"},
		// yaml.v3 reports an unclosed flow sequence on the line before.
		{"bad", "bad/templates/cm.yaml", 5, true, "rendered output"},
	} {
		_, err := Renderer{Repo: repo}.Render(tt.chart)
		var re *RenderError
		if !errors.As(err, &re) {
			t.Errorf("%s: %v, want a *RenderError", tt.chart, err)
			continue
		}
		if re.File != tt.file || re.Line != tt.line || re.Output != tt.output || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: %q (%+v)", tt.chart, err, re)
		}
		if !strings.HasPrefix(err.Error(), tt.file+":") {
			t.Errorf("%s: %q does not start with the file", tt.chart, err)
		}
	}
	if _, err := (Renderer{Repo: repo}).Render("lib"); !errors.Is(err, ErrLibraryChart) {
		t.Errorf("library: %v", err)
	}
	if _, err := (Renderer{Repo: fixtures}).Render("needs-dep"); !errors.Is(err, ErrMissingDependency) {
		t.Errorf("needs-dep: %v", err)
	}
}

// TestSchemaOffline: a schema is checked, and one that refers to a remote
// document is refused, not fetched.
func TestSchemaOffline(t *testing.T) {
	repo := t.TempDir()
	chart := map[string]string{
		"c/Chart.yaml":        "apiVersion: v2\nname: c\nversion: 0.1.0\n",
		"c/values.yaml":       "replicas: 1\n",
		"c/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
	}
	writeTree(t, repo, chart)
	writeTree(t, repo, map[string]string{"c/values.schema.json": `{"type":"object","properties":{"replicas":{"type":"integer"}},"additionalProperties":false}`})
	if _, err := (Renderer{Repo: repo}).Render("c"); err != nil {
		t.Fatalf("valid values: %v", err)
	}
	writeTree(t, repo, map[string]string{"extra.yaml": "other: 1\n"})
	if _, err := (Renderer{Repo: repo}).Render("c", ValuesFile("extra.yaml")); err == nil || !strings.Contains(err.Error(), "schema") {
		t.Errorf("a key the schema forbids: %v", err)
	}
	writeTree(t, repo, map[string]string{"c/values.schema.json": `{"$ref":"https://example.com/schema.json"}`})
	if _, err := (Renderer{Repo: repo}).Render("c"); err == nil || !strings.Contains(err.Error(), "not fetched") {
		t.Errorf("remote schema: %v", err)
	}
}

// TestSchemaMetaschema: a values.schema.json that breaks its draft's
// metaschema is refused, whichever draft it names, also when charts are
// rendered concurrently. kmend links a patched jsonschema that compiles the
// metaschemas on first use instead of at package init (start-up); this
// fails if that first use leaves them uncompiled or races.
func TestSchemaMetaschema(t *testing.T) {
	drafts := []string{"", "http://json-schema.org/draft-04/schema#", "http://json-schema.org/draft-07/schema#", "https://json-schema.org/draft/2020-12/schema"}
	var wg sync.WaitGroup
	errs := make([]error, len(drafts))
	for i, d := range drafts {
		repo := t.TempDir()
		schema := `{"type":"object","properties":{"replicas":{"type":5}}}`
		if d != "" {
			schema = `{"$schema":"` + d + `","type":"object","properties":{"replicas":{"type":5}}}`
		}
		writeTree(t, repo, map[string]string{
			"c/Chart.yaml":         "apiVersion: v2\nname: c\nversion: 0.1.0\n",
			"c/values.yaml":        "replicas: 1\n",
			"c/values.schema.json": schema,
			"c/templates/cm.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
		})
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = (Renderer{Repo: repo}).Render("c")
		}()
	}
	wg.Wait()
	for i, err := range errs {
		t.Logf("draft %q: %v", drafts[i], err)
		if err == nil || !strings.Contains(err.Error(), "jsonschema validation failed") {
			t.Errorf("draft %q: a schema with \"type\": 5 was not refused by its metaschema: %v", drafts[i], err)
		}
	}
}

func TestHelmRelease(t *testing.T) {
	r, err := HelmRelease(fixtures, "flux/webapp.yaml", 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Chart != "webapp" || r.Name != "webapp" || r.Namespace != "web" || len(r.Values) != 1 ||
		r.Values[0].String() != "flux/webapp.yaml#1 spec.values" {
		t.Errorf("%+v", r)
	}
	if _, err := HelmRelease(fixtures, "flux/webapp.yaml", 0); err == nil {
		t.Error("a GitRepository read as a HelmRelease")
	}
}

// A HelmRelease that names no chart is a kustomize patch of one defined
// elsewhere (an overlay's values, as in Flux's kustomize-helm example):
// ErrPatchOnly, not a release of a chart called "".
func TestHelmReleasePatch(t *testing.T) {
	repo := t.TempDir()
	writeTree(t, repo, map[string]string{"staging/podinfo-values.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\n  namespace: podinfo\nspec:\n  chart:\n    spec:\n      version: \">=1.0.0-alpha\"\n  values:\n    replicaCount: 2\n"})
	_, err := HelmRelease(repo, "staging/podinfo-values.yaml", 0)
	if !errors.Is(err, ErrPatchOnly) || errors.Is(err, ErrExternalChart) || !strings.Contains(err.Error(), "HelmRelease podinfo/podinfo names no chart") {
		t.Errorf("a values patch: %v", err)
	}
}

func TestApplication(t *testing.T) {
	for _, tt := range []struct {
		doc                   int
		chart, name, ns, vals string
	}{
		{0, "storefront", "storefront", "shop", "storefront/values-prod.yaml"},
		{1, "webapp", "webapp-staging", "staging", "argocd/apps.yaml#1 spec.source.helm.valuesObject"},
		{2, "webapp", "webapp-legacy", "legacy", "argocd/apps.yaml#2 spec.source.helm.values"},
	} {
		r, err := Application(fixtures, "argocd/apps.yaml", tt.doc)
		if err != nil {
			t.Fatal(err)
		}
		var vals []string
		for _, v := range r.Values {
			vals = append(vals, v.String())
		}
		if r.Chart != tt.chart || r.Name != tt.name || r.Namespace != tt.ns || strings.Join(vals, ",") != tt.vals {
			t.Errorf("doc %d: %+v %v", tt.doc, r, vals)
		}
	}
	repo := t.TempDir()
	writeTree(t, repo, map[string]string{
		"app.yaml": `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: multi
spec:
  destination:
    namespace: m
  sources:
    - repoURL: git@github.com:example/platform.git
      ref: values
    - repoURL: https://github.com/example/platform
      path: charts/web
      helm:
        valueFiles:
          - $values/envs/prod.yaml
        parameters:
          - name: image.tag
            value: "1.2"
            forceString: true
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: remote
spec:
  source:
    repoURL: https://charts.example.com
    chart: web
    targetRevision: 1.0.0
`,
	})
	r, err := Application(repo, "app.yaml", 0)
	if err != nil {
		t.Fatal(err)
	}
	// valueFiles and parameters: keys go into the values file.
	if r.Chart != "charts/web" || len(r.Values) != 2 || r.Values[0].File != "envs/prod.yaml" || r.Values[1].File != "" {
		t.Fatalf("%+v", r.Values)
	}
	if tag, _ := lookupValue(r.Values[1].Values, []string{"image", "tag"}); tag != "1.2" {
		t.Errorf("parameters %v", r.Values[1].Values)
	}
	// A chart of a Helm repository is fetched when planned (remote_test.go).
	if r, err := Application(repo, "app.yaml", 1); err != nil || r.Remote == nil || r.Remote.Name != "web" || r.Remote.Version != "1.0.0" {
		t.Errorf("remote chart: %+v %v", r, err)
	}
}

func TestMatching(t *testing.T) {
	for _, tt := range []struct {
		name, k, level string
		ok             bool
	}{
		{"securityContext", "securityContext", "container", true},
		{"containerSecurityContext", "securityContext", "container", true},
		{"podSecurityContext", "securityContext", "container", false},
		{"podSecurityContext", "securityContext", "pod", true},
		{"containerSecurityContext", "securityContext", "pod", false},
		{"resources", "resources", "container", true},
		{"spec", "spec", "pod", false},
		{"context", "securityContext", "container", false},
	} {
		if _, ok := anchorMatch(tt.name, tt.k, tt.level); ok != tt.ok {
			t.Errorf("anchorMatch(%s, %s, %s) = %v", tt.name, tt.k, tt.level, ok)
		}
	}
	for _, tt := range []struct {
		name, field string
		ok          bool
	}{
		{"pullPolicy", "imagePullPolicy", true},
		{"automount", "automountServiceAccountToken", true},
		{"drop", "drop", true},
		{"tag", "imagePullPolicy", false},
		{"auto", "automountServiceAccountToken", false},
	} {
		if nameMatch(tt.name, tt.field) != tt.ok {
			t.Errorf("nameMatch(%s, %s) != %v", tt.name, tt.field, tt.ok)
		}
	}
	kv := imageKeys(&yaml.Node{Kind: yaml.ScalarNode, Value: "registry:5000/app:1.2@sha256:abc"})
	if len(kv) != 2 || keyString(kv[0].key) != "image.digest" || kv[0].value.Value != "sha256:abc" || kv[1].value.Value != "1.2" {
		t.Errorf("imageKeys %+v", kv)
	}
	if got := keyString([]string{"podAnnotations", "example.com/role"}); got != `podAnnotations."example.com/role"` {
		t.Errorf("keyString %s", got)
	}
}

// TestRenderErrorInHelper: a helper called through include is reported
// where it fails.
func TestRenderErrorInHelper(t *testing.T) {
	repo := t.TempDir()
	writeTree(t, repo, map[string]string{
		"h/Chart.yaml":             "apiVersion: v2\nname: h\nversion: 0.1.0\n",
		"h/templates/_helpers.tpl": "{{- define \"h.name\" -}}\n{{ .Values.name.first }}\n{{- end -}}\n",
		"h/templates/cm.yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ include \"h.name\" . }}\n",
	})
	_, err := Renderer{Repo: repo}.Render("h")
	var re *RenderError
	if !errors.As(err, &re) || re.File != "h/templates/_helpers.tpl" || re.Line != 2 ||
		re.Msg != `executing "h.name" at <.Values.name.first>: nil pointer evaluating interface {}.first` {
		t.Errorf("%v (%+v)", err, re)
	}
}
