package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"text/template"
)

// TemplateData is what why-texts and fix templates see.
type TemplateData struct {
	// Params holds the fix's parameters, defaults overridden by the user.
	Params map[string]string
	// Observed is the failing value as text ("" when unset); Value is the
	// decoded value (a list for list fields).
	Observed string
	Value    any
	// Keep is, for list values, the items that are not risky: what a fix
	// that removes risky items leaves.
	Keep      []any
	Container string
	Field     string
	// Pointer is the JSON pointer of the failing value relative to where
	// the fix applies (the container, the pod template or the object), with
	// list indexes resolved: /env/2/value.
	Pointer string
	Reason  string
}

var funcs = template.FuncMap{
	"toJSON": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	"default": func(def, v any) any {
		if v == nil || v == "" {
			return def
		}
		return v
	},
}

var parsed sync.Map // template text → *template.Template

// parseTemplate parses a why-text or fix template, once per text.
func parseTemplate(name, text string) (*template.Template, error) {
	if t, ok := parsed.Load(text); ok {
		return t.(*template.Template), nil
	}
	t, err := template.New(name).Funcs(funcs).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, err
	}
	parsed.Store(text, t)
	return t, nil
}

// Render executes a template of this control with data.
func Render(name, text string, data TemplateData) (string, error) {
	t, err := parseTemplate(name, text)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return b.String(), nil
}

// Defaults returns the fix's parameters with their defaults, overridden by
// set (name → value). Unknown names in set are an error.
func (c *Control) Defaults(set map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range c.Fix.Params {
		out[p.Name] = p.Default
	}
	for k, v := range set {
		if _, ok := out[k]; !ok {
			return nil, fmt.Errorf("control %s has no parameter %q", c.ID, k)
		}
		out[k] = v
	}
	return out, nil
}

// WhyTemplate returns the control's why-text template for a reason: the
// reason's own, else the title.
func (c *Control) WhyTemplate(reason string) string {
	var t string
	switch reason {
	case "unset":
		t = c.Why.Unset
	case "inherited":
		t = c.Why.Inherited
	default:
		t = c.Why.Risky
	}
	if t == "" {
		t = c.Title
	}
	return t
}

// WhyText returns the control's why-text for a reason, filled in.
func (c *Control) WhyText(reason string, data TemplateData) string {
	t := c.WhyTemplate(reason)
	s, err := Render(c.ID+" why", t, data)
	if err != nil {
		return t
	}
	return s
}
