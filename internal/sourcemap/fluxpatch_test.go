package sourcemap

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestFluxValuesPatches: a HelmRelease in a base, patched by overlays the
// ways kustomize allows; the location of what it renders names the files
// whose patches set its spec.values, in kustomize's order, and no other.
func TestFluxValuesPatches(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"base/kustomization.yaml": "resources:\n  - release.yaml\n  - other.yaml\n",
		"base/release.yaml":       "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web\n  namespace: team\nspec:\n  chart: {spec: {chart: web, sourceRef: {kind: HelmRepository, name: web}}}\n  values: {replicaCount: 1}\n",
		"base/other.yaml":         "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: other\n  namespace: team\nspec:\n  values: {}\n",
		// A middle overlay: a strategic-merge file naming the release.
		"mid/kustomization.yaml": "resources: [../base]\npatchesStrategicMerge:\n  - web-values.yaml\n  - other-values.yaml\n",
		"mid/web-values.yaml":    "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: web, namespace: team}\nspec:\n  values: {replicaCount: 2}\n",
		"mid/other-values.yaml":  "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: other}\nspec:\n  values: {replicaCount: 2}\n",
		// The top overlay: a target by kind, a JSON 6902 file by a name
		// regexp, an inline patch, and patches that do not set values or
		// select another release.
		"prod/kustomization.yaml": `resources: [../mid]
patches:
  - path: interval.yaml
    target: {kind: HelmRelease}
  - path: values.yaml
    target: {kind: HelmRelease, name: "w.*"}
  - path: values.yaml
    target: {kind: HelmRelease, name: other}
  - patch: |
      - op: replace
        path: /spec/values/replicaCount
        value: 3
    target: {kind: HelmRelease, name: web, namespace: team}
patchesJson6902:
  - path: ops.json
    target: {group: helm.toolkit.fluxcd.io, version: v2, kind: HelmRelease, name: web}
`,
		"prod/interval.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: any}\nspec:\n  interval: 5m\n",
		"prod/values.yaml":   "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: any}\nspec:\n  values: {image: {tag: v2}}\n",
		"prod/ops.json":      `[{"op": "add", "path": "/spec/values/podSecurityContext", "value": {}}]`,
	}
	for p, body := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const url = "https://github.com/o/fleet"
	flux := func(path string) []*Location {
		m := newMapper(t, Context{
			Kustomizations: lives(t, `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec: {path: ./`+path+`, sourceRef: {kind: GitRepository, name: flux-system}}
`),
			GitRepositories: lives(t, "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: {name: flux-system, namespace: flux-system}\nspec: {url: "+url+", ref: {branch: main}}\n"),
			HelmReleases: lives(t, obj("helm.toolkit.fluxcd.io/v2", "HelmRelease", "team", "web", fluxKS("apps", "flux-system"))+"---\n"+
				obj("helm.toolkit.fluxcd.io/v2", "HelmRelease", "team", "other", fluxKS("apps", "flux-system"))),
			Repos: map[string]string{url: dir},
		})
		var out []*Location
		for _, name := range []string{"web", "other"} {
			res := m.Locate(live(t, obj("apps/v1", "Deployment", "team", name,
				labels("helm.toolkit.fluxcd.io/name", name, "helm.toolkit.fluxcd.io/namespace", "team"))))
			if res.Location == nil {
				t.Fatalf("%s: %v", path, res.Err)
			}
			out = append(out, res.Location)
		}
		return out
	}
	for _, tc := range []struct {
		path       string
		web, other []string
	}{
		{"base", nil, nil},
		{"mid", []string{"mid/web-values.yaml"}, []string{"mid/other-values.yaml"}},
		{"prod", []string{"mid/web-values.yaml", "prod/values.yaml", "prod/kustomization.yaml", "prod/ops.json"},
			[]string{"mid/other-values.yaml", "prod/values.yaml"}},
	} {
		got := flux(tc.path)
		for i, want := range [][]string{tc.web, tc.other} {
			l := got[i]
			if l.Kind != KindFluxHelmRelease || l.File != "base/release.yaml" && l.File != "base/other.yaml" {
				t.Errorf("%s: located at %+v", tc.path, *l)
			}
			if !slices.Equal(l.ValuesPatches, want) {
				t.Errorf("%s: %s: values patches %q, want %q", tc.path, l.File, l.ValuesPatches, want)
			}
			if len(want) > 0 && !strings.Contains(l.Detail, "spec.values patched by "+strings.Join(want, ", ")) {
				t.Errorf("%s: detail %q", tc.path, l.Detail)
			}
		}
	}
}
