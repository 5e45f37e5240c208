package sourcemap

import (
	"os"
	"path/filepath"
	"testing"
)

func TestChartFilesFor(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"chart/Chart.yaml":                "apiVersion: v2\nname: chart\nversion: 0.1.0\n",
		"chart/values.yaml":               "replicaCount: 1\n",
		"chart/templates/_helpers.tpl":    "{{/* kind: Deployment */}}\nkind: Deployment\n",
		"chart/templates/_partial.yaml":   "kind: Deployment\n",
		"chart/templates/NOTES.txt":       "kind: Deployment\n",
		"chart/templates/deployment.yaml": "{{- if .Values.enabled }}\napiVersion: apps/v1\nkind: Deployment\n{{- end }}\n",
		"chart/templates/worker.yaml":     "apiVersion: apps/v1\nkind: \"Deployment\"\n",
		"chart/templates/jobs/cron.yaml":  "apiVersion: batch/v1\nkind: 'CronJob' # nightly\n",
		"chart/templates/svc-a.yaml":      "apiVersion: v1\nkind: Service\n",
		"chart/templates/svc-b.yaml":      "apiVersion: v1\n  kind: Service\n",
		"novalues/templates/ds.yaml":      "kind: DaemonSet\n",
		"apps/templates/web.yaml":         "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web\n",
		"apps/templates/api.yaml":         "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: \"api\" # the API\nspec:\n  source: {path: web}\n",
		"apps/templates/tpl.yaml":         "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {{ .Values.name }}\n",
		"apps/templates/twin-1.yaml":      "kind: Application\nmetadata:\n  name: twin\n",
		"apps/templates/twin-2.yaml":      "kind: Application\nmetadata:\n  name: twin\n",
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
	c := &checkout{dir: dir}
	for _, tc := range []struct {
		dir, kind, template, values, note string
		name                              string
	}{
		// Two templates render a Deployment: the one named after the kind.
		{"chart", "Deployment", "chart/templates/deployment.yaml", "chart/values.yaml", "", ""},
		{"chart", "CronJob", "chart/templates/jobs/cron.yaml", "chart/values.yaml", "", ""},
		{"chart", "Service", "", "chart/values.yaml", "several templates render a Service: chart/templates/svc-a.yaml, chart/templates/svc-b.yaml", ""},
		{"chart", "StatefulSet", "", "chart/values.yaml", "no template of chart chart renders a StatefulSet", ""},
		{"novalues", "DaemonSet", "novalues/templates/ds.yaml", "", "", ""},
		// Several templates render an Application (an app of apps): the
		// only one writing the object's name literally.
		{"apps", "Application", "apps/templates/web.yaml", "", "", "web"},
		{"apps", "Application", "apps/templates/api.yaml", "", "", "api"},
		{"apps", "Application", "", "", "several templates render a Application: apps/templates/api.yaml, apps/templates/tpl.yaml, apps/templates/twin-1.yaml, apps/templates/twin-2.yaml, apps/templates/web.yaml", "twin"},
		{"apps", "Application", "", "", "several templates render a Application: apps/templates/api.yaml, apps/templates/tpl.yaml, apps/templates/twin-1.yaml, apps/templates/twin-2.yaml, apps/templates/web.yaml", "other"},
	} {
		got := c.chartFilesFor(tc.dir, tc.kind, tc.name)
		if got.template != tc.template || got.values != tc.values || got.note != tc.note {
			t.Errorf("%s %s: %+v, want template %q values %q note %q", tc.dir, tc.kind, got, tc.template, tc.values, tc.note)
		}
	}
}

func TestQualify(t *testing.T) {
	const r = "https://github.com/o/r"
	for _, tc := range []struct{ repo, rev, locRepo, locRef, want string }{
		{r, "main", r, "main", "p.yaml"},
		{r, "", r, "main", "p.yaml"},
		{r, "v2", r, "main", r + "//p.yaml?ref=v2"},
		{r, "", "https://github.com/o/other", "", r + "//p.yaml"},
	} {
		if got := qualify(tc.repo, tc.rev, tc.locRepo, tc.locRef, "p.yaml"); got != tc.want {
			t.Errorf("qualify(%q, %q, %q, %q) = %q, want %q", tc.repo, tc.rev, tc.locRepo, tc.locRef, got, tc.want)
		}
	}
}
