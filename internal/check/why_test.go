package check

import (
	"testing"

	"github.com/kmend/kmend/internal/catalog"
)

func TestWhyTextIsCatalogs(t *testing.T) {
	cat, err := catalog.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	controls := cat.All()
	for i, text := range []string{
		"{{.Field}} at {{ .Pointer }} is {{- .Reason -}}!", "{{.Container}}{{.Container}}", "plain text",
		"{{/* a comment */}}container {{.Container}}", "{{.Params.uid}}", `{{.Observed | printf "%q"}}`,
		"{{toJSON .Keep}}", "{{.Missing}}", "{{if .Observed}}{{.Observed}}{{end}}", "{{$x := .Container}}{{$x}}",
		"{{.Container.Name}}", "{{.}}", "{{ .Keep }}", "{{.Value}}", "{{", "",
	} {
		c := &catalog.Control{ID: "KM-T" + string(rune('A'+i)), Title: "title {{.Container}}",
			Why: catalog.Why{Unset: text, Risky: text, Inherited: "inherited " + text}}
		controls = append(controls, c)
	}
	params := map[string]string{"uid": "10001", "gid": "10001", "port": "8080", "path": "/var/cache/app", "memory": "256Mi", "cpu": "500m"}
	datas := []catalog.TemplateData{
		{Params: params, Container: "app", Field: "securityContext.privileged", Pointer: "/securityContext/privileged"},
		{Params: params, Container: "we{{ird}} <c> \"n\"", Observed: "[NET_ADMIN, SYS_TIME]", Value: []any{"NET_ADMIN", "SYS_TIME"}, Keep: []any{"SYS_TIME"}, Pointer: "/a~1b"},
		{Params: params, Observed: "true", Value: "true", Keep: []any{}},
		{Params: params, Observed: "name: x\nkey: y"},
		{},
	}
	for _, c := range controls {
		for _, reason := range []string{"unset", "risky", "inherited", "reported"} {
			for _, d := range datas {
				d.Reason = reason
				if got, want := whyText(c, reason, &d), c.WhyText(reason, d); got != want {
					t.Errorf("%s %s %+v:\ngot  %q\nwant %q", c.ID, reason, d, got, want)
				}
			}
		}
	}
}
