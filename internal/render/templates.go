package render

import (
	"embed"
	"strconv"
	"strings"
	"sync"
	"text/template"
)

//go:embed templates/*.tmpl templates/kmend.yaml
var templateFS embed.FS

// templates are parsed on first use, not at start: the CLI links this
// package and most of its runs render no pull request.
var templates = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("kmend").Funcs(template.FuncMap{
		// n writes a count with its noun: "1 finding", "3 findings".
		"n": func(n int, noun string) string {
			if n == 1 {
				return "1 " + noun
			}
			return strconv.Itoa(n) + " " + pluralOf(noun)
		},
		"join": strings.Join,
	}).ParseFS(templateFS, "templates/*.tmpl"))
})

// pluralOf makes the plural of the nouns the templates count.
func pluralOf(noun string) string {
	switch {
	case strings.HasSuffix(noun, "ch"), strings.HasSuffix(noun, "x"):
		return noun + "es"
	}
	return noun + "s"
}

// executor runs templates and keeps the first error, so that building a
// document reads as a sequence of texts.
type executor struct{ err error }

func (e *executor) exec(name string, data any) string {
	var b strings.Builder
	if err := templates().ExecuteTemplate(&b, name, data); err != nil {
		if e.err == nil {
			e.err = err
		}
		return ""
	}
	return b.String()
}
