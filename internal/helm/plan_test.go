package helm

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kmend/kmend/internal/finding"
)

// planOf plans a release of the fixtures once per test binary.
var (
	plansMu sync.Mutex
	plans   = map[string]*Result{}
)

func planOf(t *testing.T, name string) *Result {
	t.Helper()
	plansMu.Lock()
	defer plansMu.Unlock()
	if r, ok := plans[name]; ok {
		return r
	}
	var rel *Release
	var err error
	switch {
	case strings.HasPrefix(name, "flux/"):
		rel, err = HelmRelease(fixtures, name, 1)
	case strings.HasPrefix(name, "argocd/"):
		file, doc, _ := strings.Cut(name, "#")
		rel, err = Application(fixtures, file, int(doc[0]-'0'))
	default:
		rel = &Release{Chart: name}
	}
	if err != nil {
		t.Fatal(err)
	}
	res, err := PlanRelease(rel, controls(t), Options{Renderer: Renderer{Repo: fixtures}, Fixability: autoReview})
	if err != nil {
		t.Fatal(err)
	}
	plans[name] = res
	return res
}

// TestKeyChoice says which values key is chosen per control, per chart and
// release, and where it is written.
func TestKeyChoice(t *testing.T) {
	const manual = "manual"
	tests := []struct {
		release, control, container string
		key, file                   string
		created                     bool
	}{
		// (a) helm create layout: securityContext and podSecurityContext
		// are {} in values.yaml; the pod-level catalog fixes go to
		// podSecurityContext.
		{"webapp", "KM-002", "webapp", "securityContext.allowPrivilegeEscalation", "webapp/values.yaml", true},
		{"webapp", "KM-007", "webapp", "securityContext.capabilities.drop", "webapp/values.yaml", true},
		{"webapp", "KM-010", "webapp", "podSecurityContext.seccompProfile.type", "webapp/values.yaml", true},
		{"webapp", "KM-003", "webapp", "podSecurityContext.runAsNonRoot", "webapp/values.yaml", true},
		{"webapp", "KM-021", "webapp", "resources.requests.cpu", "webapp/values.yaml", true},
		{"webapp", "KM-029", "webapp", "image.pullPolicy", "webapp/values.yaml", false},
		{"webapp", "KM-020", "", manual, "", false},
		// (b) Bitnami layout: containerSecurityContext.*, and metrics.*
		// for the sidecar named metrics.
		{"storefront", "KM-002", "storefront", "containerSecurityContext.allowPrivilegeEscalation", "storefront/values.yaml", true},
		{"storefront", "KM-006", "storefront", "containerSecurityContext.readOnlyRootFilesystem", "storefront/values.yaml", false},
		{"storefront", "KM-033", "metrics", "metrics.containerSecurityContext.runAsUser", "storefront/values.yaml", false},
		{"storefront", "KM-029", "storefront", "image.pullPolicy", "storefront/values.yaml", false},
		{"storefront", "KM-029", "metrics", "metrics.image.pullPolicy", "storefront/values.yaml", false},
		{"storefront", "KM-021", "metrics", "metrics.resources.requests.cpu", "storefront/values.yaml", true},
		{"storefront", "KM-023", "storefront", "resources.limits.cpu", "storefront/values.yaml", true},
		{"storefront", "KM-020", "", "automountServiceAccountToken", "storefront/values.yaml", false},
		// (c) privileged: true hard-coded in the template.
		{"node-agent", "KM-001", "agent", manual, "", false},
		{"node-agent", "KM-029", "agent", "image.pullPolicy", "node-agent/values.yaml", false},
		// A vendored subchart: its values under its name.
		{"umbrella", "KM-002", "worker", "worker.securityContext.allowPrivilegeEscalation", "umbrella/values.yaml", true},
		{"umbrella", "KM-029", "worker", manual, "", false},
		// (d) Flux HelmRelease: inline spec.values.
		{"flux/webapp.yaml", "KM-029", "webapp", "image.pullPolicy", "flux/webapp.yaml", false},
		{"flux/webapp.yaml", "KM-033", "webapp", "securityContext.runAsUser", "flux/webapp.yaml", false},
		{"flux/webapp.yaml", "KM-010", "webapp", "podSecurityContext.seccompProfile.type", "flux/webapp.yaml", true},
		// (e) Argo CD: valueFiles, valuesObject, values string.
		{"argocd/apps.yaml#0", "KM-029", "storefront", "image.pullPolicy", "storefront/values-prod.yaml", true},
		{"argocd/apps.yaml#0", "KM-002", "storefront", "containerSecurityContext.allowPrivilegeEscalation", "storefront/values-prod.yaml", true},
		{"argocd/apps.yaml#1", "KM-002", "webapp", "securityContext.allowPrivilegeEscalation", "argocd/apps.yaml", true},
		{"argocd/apps.yaml#1", "KM-029", "webapp", "image.pullPolicy", "argocd/apps.yaml", false},
		{"argocd/apps.yaml#2", "KM-033", "webapp", "securityContext.runAsUser", "argocd/apps.yaml", false},
		{"argocd/apps.yaml#2", "KM-010", "webapp", "podSecurityContext.seccompProfile.type", "argocd/apps.yaml", true},
	}
	for _, tt := range tests {
		t.Run(tt.release+"/"+tt.control+"/"+tt.container, func(t *testing.T) {
			res := planOf(t, tt.release)
			match := func(f finding.Finding) bool { return f.ControlID == tt.control && f.Container == tt.container }
			for _, fx := range res.Fixes {
				if !slices.ContainsFunc(fx.Findings, match) {
					continue
				}
				if tt.key == manual {
					t.Fatalf("fixed with %s, want manual", fx.KeyString())
				}
				// The search ranks the right key first: nothing was
				// rendered and rejected before it.
				if len(fx.Rejected) > 0 {
					t.Errorf("tried and rejected first: %v", fx.Rejected)
				}
				if fx.KeyString() != tt.key || fx.File() != tt.file || fx.Created != tt.created {
					t.Errorf("key %s in %s (created %v), want %s in %s (created %v)", fx.KeyString(), fx.File(), fx.Created, tt.key, tt.file, tt.created)
				}
				return
			}
			for _, m := range res.Manual {
				if match(m.Finding) {
					if tt.key != manual {
						t.Fatalf("manual (%s), want %s", m.Reason, tt.key)
					}
					return
				}
			}
			t.Fatalf("no fix and no manual fallback for %s container %q", tt.control, tt.container)
		})
	}
}

// TestVerificationDropsKey: serviceAccount.automount is named like
// automountServiceAccountToken, but sets the ServiceAccount's field, not
// the pod's: the render shows the control still failing and another object
// changing, so the key is dropped and never written.
func TestVerificationDropsKey(t *testing.T) {
	repo := copyTree(t, fixtures)
	res, err := Plan("webapp", nil, controls(t, "KM-020", "KM-002"), Options{Renderer: Renderer{Repo: repo, SkipTests: true}, Fixability: autoReview})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Manual) != 1 || res.Manual[0].Finding.ControlID != "KM-020" {
		t.Fatalf("manual %+v, want KM-020 only", res.Manual)
	}
	m := res.Manual[0]
	i := slices.IndexFunc(m.Tried, func(a Attempt) bool { return a.Key == "serviceAccount.automount" })
	if i < 0 {
		t.Fatalf("serviceAccount.automount was not tried: %v", m.Tried)
	}
	if r := m.Tried[i].Reason; !strings.Contains(r, "KM-020 still fails") || !strings.Contains(r, "also changes ServiceAccount/") {
		t.Errorf("reason %q", r)
	}
	if len(res.Fixes) != 1 || res.Fixes[0].KeyString() != "securityContext.allowPrivilegeEscalation" {
		t.Fatalf("fixes %v", res.Fixes)
	}
	if _, err := res.Write(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(repo, "webapp", "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte("  automount: true\n")) || !bytes.Contains(data, []byte("allowPrivilegeEscalation: false")) {
		t.Errorf("values.yaml:\n%s", data)
	}
}

// TestRejectsKeyThatChangesMore: a key read by the Deployment and by a
// ConfigMap fixes the control but also changes the ConfigMap, so it is not
// kept: the fix is manual.
func TestRejectsKeyThatChangesMore(t *testing.T) {
	repo := t.TempDir()
	writeTree(t, repo, map[string]string{
		"net/Chart.yaml":  "apiVersion: v2\nname: net\nversion: 0.1.0\n",
		"net/values.yaml": "# the pods use the node's network\nhostNetwork: true\n",
		"net/templates/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  selector:
    matchLabels: {app: net}
  template:
    metadata:
      labels: {app: net}
    spec:
      hostNetwork: {{ .Values.hostNetwork }}
      containers:
        - name: app
          image: nginx:1.27
`,
		"net/templates/configmap.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
data:
  hostNetwork: {{ .Values.hostNetwork | quote }}
`,
	})
	res, err := Plan("net", nil, controls(t, "KM-015"), Options{Renderer: Renderer{Repo: repo}, Fixability: autoReview})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Fixes) != 0 || len(res.Manual) != 1 {
		t.Fatalf("%d fixes, %d manual", len(res.Fixes), len(res.Manual))
	}
	m := res.Manual[0]
	if len(m.Tried) == 0 || m.Tried[0].Key != "hostNetwork" || !strings.Contains(m.Tried[0].Reason, "also changes ConfigMap/release-settings /data/hostNetwork") {
		t.Errorf("tried %v", m.Tried)
	}
	if res.Changed() {
		t.Error("a file changes")
	}
}

// TestManualFallback: privileged: true is written in the template; no key
// controls it, and the fix comes as patches to apply after rendering.
func TestManualFallback(t *testing.T) {
	res, err := Plan("node-agent", nil, controls(t, "KM-001"), Options{Renderer: Renderer{Repo: fixtures, Release: "agents"}, Fixability: autoReview})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Fixes) != 0 || len(res.Manual) != 1 || res.Changed() {
		t.Fatalf("%d fixes, %d manual, changed %v", len(res.Fixes), len(res.Manual), res.Changed())
	}
	m := res.Manual[0]
	if m.Patch == nil || len(m.Patch.JSONPatch) != 1 || m.Patch.JSONPatch[0].Path != "/spec/template/spec/containers/0/securityContext/privileged" {
		t.Fatalf("patch %+v", m.Patch)
	}
	for _, want := range []string{"kind: DaemonSet", "name: agents-node-agent", "privileged: false", "- name: agent", "patch: |"} {
		if !bytes.Contains(m.Kustomize, []byte(want)) {
			t.Errorf("kustomize patch lacks %q:\n%s", want, m.Kustomize)
		}
	}
	for _, a := range m.Tried {
		if !strings.Contains(a.Reason, "changes nothing in the render") {
			t.Errorf("%s: %s", a.Key, a.Reason)
		}
	}
	if !strings.Contains(m.Reason, "containers[0].securityContext.privileged") {
		t.Errorf("reason %q", m.Reason)
	}
}

// TestCommentedValueNeedsReview: pullPolicy carries a line comment saying
// why; with auto fixes only, the finding is left for review, with review
// allowed the key is set and the note kept.
func TestCommentedValueNeedsReview(t *testing.T) {
	auto, err := Plan("node-agent", nil, controls(t, "KM-029"), Options{Renderer: Renderer{Repo: fixtures}})
	if err != nil {
		t.Fatal(err)
	}
	if len(auto.Fixes) != 0 || len(auto.Left) != 1 || auto.Left[0].Fixability != finding.FixReview ||
		!strings.Contains(auto.Left[0].ReviewNote, "the agent runs on every node") {
		t.Fatalf("fixes %d, left %+v", len(auto.Fixes), auto.Left)
	}
	review, err := Plan("node-agent", nil, controls(t, "KM-029"), Options{Renderer: Renderer{Repo: fixtures}, Fixability: autoReview})
	if err != nil {
		t.Fatal(err)
	}
	if len(review.Fixes) != 1 || !strings.Contains(review.Fixes[0].ReviewNote, "the agent runs on every node") {
		t.Fatalf("fixes %+v", review.Fixes)
	}
	after := string(review.Files[0].After)
	if !strings.Contains(after, "pullPolicy: Always # the agent runs on every node: pull once\n") {
		t.Errorf("values.yaml:\n%s", after)
	}
}

// TestPlanRepo: a chart that does not render is reported with its
// template and line, one whose dependency is missing with its path, and
// the others are still planned.
func TestPlanRepo(t *testing.T) {
	results, errs := PlanRepo(controls(t, "KM-002"), Options{Renderer: Renderer{Repo: fixtures}})
	var charts []string
	for _, r := range results {
		charts = append(charts, r.Chart)
	}
	if want := []string{"node-agent", "storefront", "umbrella", "webapp"}; !slices.Equal(charts, want) {
		t.Errorf("planned %v, want %v", charts, want)
	}
	if len(errs) != 2 {
		t.Fatalf("errors %v", errs)
	}
	var re *RenderError
	if !errors.As(errs[0], &re) || re.File != "broken/templates/deployment.yaml" || re.Line != 17 || re.Chart != "broken" {
		t.Errorf("error %v (%+v)", errs[0], re)
	}
	if !strings.HasPrefix(errs[0].Error(), "broken/templates/deployment.yaml:17") {
		t.Errorf("message %q", errs[0])
	}
	if !errors.Is(errs[1], ErrMissingDependency) || !strings.Contains(errs[1].Error(), "needs-dep") || !strings.Contains(errs[1].Error(), "redis") {
		t.Errorf("error %v", errs[1])
	}
}

// TestEscapes: chart and values paths leaving the repository are refused,
// through "..", absolute paths and symbolic links.
func TestEscapes(t *testing.T) {
	parent := t.TempDir()
	repo := filepath.Join(parent, "repo")
	writeTree(t, parent, map[string]string{"secret.yaml": "password: hunter2\n"})
	writeTree(t, repo, map[string]string{
		"chart/Chart.yaml":             "apiVersion: v2\nname: chart\nversion: 0.1.0\n",
		"chart/templates/cm.yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
		"apps/app.yaml":                "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: a\nspec:\n  destination:\n    namespace: a\n  source:\n    repoURL: https://example.com/r\n    path: chart\n    helm:\n      valueFiles:\n        - ../../secret.yaml\n",
		"flux/release.yaml":            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: r\n  namespace: n\nspec:\n  chart:\n    spec:\n      chart: ../chart\n      sourceRef:\n        kind: GitRepository\n        name: g\n",
		"chart/templates/_helpers.tpl": "",
	})
	if err := os.Symlink(filepath.Join(parent, "secret.yaml"), filepath.Join(repo, "link.yaml")); err != nil {
		t.Fatal(err)
	}
	opts := Options{Renderer: Renderer{Repo: repo}}
	cases := map[string]func() error{
		"values ..": func() error {
			_, err := Plan("chart", []ValuesSource{ValuesFile("../secret.yaml")}, nil, opts)
			return err
		},
		"values absolute": func() error {
			_, err := Plan("chart", []ValuesSource{ValuesFile(filepath.Join(parent, "secret.yaml"))}, nil, opts)
			return err
		},
		"values symlink": func() error {
			_, err := Plan("chart", []ValuesSource{ValuesFile("link.yaml")}, nil, opts)
			return err
		},
		"chart ..": func() error {
			_, err := opts.Renderer.Render("../repo/chart")
			return err
		},
		"application valueFiles": func() error {
			_, err := Application(repo, "apps/app.yaml", 0)
			return err
		},
		"helmrelease chart": func() error {
			_, err := HelmRelease(repo, "flux/release.yaml", 0)
			return err
		},
	}
	for name, fn := range cases {
		if err := fn(); !errors.Is(err, ErrEscapes) {
			t.Errorf("%s: %v, want ErrEscapes", name, err)
		}
	}
	// Inside the repository, the same chart renders.
	if objs, err := opts.Renderer.Render("chart"); err != nil || len(objs) != 1 {
		t.Errorf("render: %v, %d objects", err, len(objs))
	}
}

// TestEmptyValuesFile: a values file with only comments gets the keys
// after its comments.
func TestEmptyValuesFile(t *testing.T) {
	repo := copyTree(t, fixtures)
	writeTree(t, repo, map[string]string{"envs/prod.yaml": "# production values: none yet\n"})
	res, err := Plan("webapp", []ValuesSource{ValuesFile("envs/prod.yaml")}, controls(t, "KM-002", "KM-029"), Options{Renderer: Renderer{Repo: repo}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 1 || res.Files[0].Path != "envs/prod.yaml" {
		t.Fatalf("files %+v", res.Files)
	}
	want := "# production values: none yet\nsecurityContext:\n  allowPrivilegeEscalation: false\nimage:\n  pullPolicy: Always\n"
	if got := string(res.Files[0].After); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if res.Fixes[1].Line != 5 {
		t.Errorf("line %d", res.Fixes[1].Line)
	}
}

// TestVolatileTemplate: a template that makes up a value on each render
// (randAlphaNum) does not make every key look like it changes more.
func TestVolatileTemplate(t *testing.T) {
	repo := copyTree(t, fixtures)
	dep := filepath.Join(repo, "webapp", "templates", "deployment.yaml")
	data, err := os.ReadFile(dep)
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.Replace(data, []byte("    metadata:\n"), []byte("    metadata:\n      annotations:\n        rollme: {{ randAlphaNum 8 | quote }}\n"), 1)
	if err := os.WriteFile(dep, data, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Plan("webapp", nil, controls(t, "KM-002"), Options{Renderer: Renderer{Repo: repo}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Fixes) != 1 {
		t.Fatalf("fixes %d, manual %+v", len(res.Fixes), res.Manual)
	}
}

// TestWriteOnlyWhenChanged: writing twice writes once.
func TestWriteOnlyWhenChanged(t *testing.T) {
	repo := copyTree(t, fixtures)
	res, err := Plan("webapp", nil, controls(t, "KM-002"), Options{Renderer: Renderer{Repo: repo}})
	if err != nil {
		t.Fatal(err)
	}
	w1, err := res.Write()
	if err != nil || !slices.Equal(w1, []string{"webapp/values.yaml"}) {
		t.Fatalf("first write %v %v", w1, err)
	}
	w2, err := res.Write()
	if err != nil || len(w2) != 0 {
		t.Fatalf("second write %v %v", w2, err)
	}
}

// TestMaxCandidates bounds the renders per finding.
func TestMaxCandidates(t *testing.T) {
	res, err := Plan("webapp", nil, controls(t, "KM-020"), Options{Renderer: Renderer{Repo: fixtures, SkipTests: true}, Fixability: autoReview, MaxCandidates: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Manual) != 1 || len(res.Manual[0].Tried) != 1 {
		t.Fatalf("manual %+v", res.Manual)
	}
	// Two renders to start (the second finds volatile values), one tried.
	if res.Renders != 3 {
		t.Errorf("%d renders", res.Renders)
	}
}

// TestVerifyAfterEditing: the edited bytes are read back and rendered
// once more; when they do not give what the trials gave, nothing is
// written and every fix becomes manual.
func TestVerifyAfterEditing(t *testing.T) {
	rp, err := openRepo(fixtures)
	if err != nil {
		t.Fatal(err)
	}
	defer rp.close()
	p, err := newPlanner(rp, "webapp", nil, controls(t, "KM-002"), Options{Renderer: Renderer{Repo: fixtures}})
	if err != nil {
		t.Fatal(err)
	}
	p.run()
	if len(p.res.Fixes) != 1 {
		t.Fatalf("fixes %d", len(p.res.Fixes))
	}
	// Change the working copy behind the trials' back.
	doc := p.ls.defaults.vf.docs[0]
	rc, _ := lookupPath(doc, []string{"replicaCount"})
	rc.YNode().Value = "5"
	if err := p.finish(); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(p.res.Manual, func(m *Manual) bool { return m.Finding.Object.Kind == "Deployment" })
	if len(p.res.Fixes) != 0 || len(p.res.Files) != 0 || i < 0 ||
		!strings.Contains(p.res.Manual[i].Reason, "do not render as the edits did") {
		t.Fatalf("fixes %d, files %d, manual %+v", len(p.res.Fixes), len(p.res.Files), p.res.Manual)
	}
	if len(p.res.Manual[i].Kustomize) == 0 {
		t.Error("no kustomize patch")
	}
}
