package check

import (
	"strings"
	"sync"
	"text/template/parse"

	"github.com/kmend/kmend/internal/catalog"
)

// whyText is c.WhyText(reason, data), without text/template for the
// why-texts that only print text and string fields ({{.Container}},
// {{.Observed}}, …), as nearly all do: executing a template for each of a
// large scan's findings is a good part of its checking time.
// TestWhyTextIsCatalogs holds it to c.WhyText.
func whyText(c *catalog.Control, reason string, data *catalog.TemplateData) string {
	pieces, ok := simpleTemplate(c.WhyTemplate(reason))
	if !ok {
		return c.WhyText(reason, *data)
	}
	n := 0
	for _, p := range pieces {
		n += len(p.text)
		if p.field != nil {
			n += len(p.field(data))
		}
	}
	var b strings.Builder
	b.Grow(n)
	for _, p := range pieces {
		b.WriteString(p.text)
		if p.field != nil {
			b.WriteString(p.field(data))
		}
	}
	return b.String()
}

// piece is a text followed by a field's value (when field is set).
type piece struct {
	text  string
	field func(*catalog.TemplateData) string
}

// stringFields are the template data's string fields, which text/template
// prints as they are.
var stringFields = map[string]func(*catalog.TemplateData) string{
	"Observed":  func(d *catalog.TemplateData) string { return d.Observed },
	"Container": func(d *catalog.TemplateData) string { return d.Container },
	"Field":     func(d *catalog.TemplateData) string { return d.Field },
	"Pointer":   func(d *catalog.TemplateData) string { return d.Pointer },
	"Reason":    func(d *catalog.TemplateData) string { return d.Reason },
}

type simple struct {
	pieces []piece
	ok     bool
}

var simpleTemplates sync.Map // template text → simple

// simpleTemplate splits a template made only of text and {{.Field}}
// actions on string fields into pieces; ok is false for any other template.
func simpleTemplate(text string) ([]piece, bool) {
	if s, ok := simpleTemplates.Load(text); ok {
		return s.(simple).pieces, s.(simple).ok
	}
	s := splitTemplate(text)
	simpleTemplates.Store(text, s)
	return s.pieces, s.ok
}

func splitTemplate(text string) simple {
	// Any function name parses; a template that calls one is not simple.
	t := parse.New("why")
	t.Mode = parse.SkipFuncCheck
	if _, err := t.Parse(text, "", "", map[string]*parse.Tree{}); err != nil || t.Root == nil || len(t.Root.Nodes) == 0 {
		return simple{}
	}
	var out []piece
	var pending strings.Builder
	for _, n := range t.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			pending.Write(n.Text)
		case *parse.ActionNode:
			field := stringField(n.Pipe)
			if field == nil {
				return simple{}
			}
			out = append(out, piece{text: pending.String(), field: field})
			pending.Reset()
		default:
			return simple{}
		}
	}
	if pending.Len() > 0 {
		out = append(out, piece{text: pending.String()})
	}
	return simple{pieces: out, ok: true}
}

// stringField returns the getter of a pipeline that is only a string
// field of the data, such as .Container; nil otherwise.
func stringField(p *parse.PipeNode) func(*catalog.TemplateData) string {
	if p == nil || len(p.Decl) > 0 || p.IsAssign || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return nil
	}
	f, ok := p.Cmds[0].Args[0].(*parse.FieldNode)
	if !ok || len(f.Ident) != 1 {
		return nil
	}
	return stringFields[f.Ident[0]]
}
