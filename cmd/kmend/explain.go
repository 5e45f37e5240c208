package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/output"
	"github.com/kmend/kmend/internal/patch"
)

func newExplain(g *globals) *cobra.Command {
	sel := &selection{}
	cmd := &cobra.Command{
		Use:   "explain CONTROL | FILE[:LINE]",
		Short: "Explain a control, or the findings in a file or at a line: why, how to fix, the patch",
		Long: `explain CONTROL prints what a control protects against, what it checks, the
text for each reason it can fail for, how kmend fixes it (the strategic-merge
and RFC 6902 templates with their parameters) and what to watch for.
CONTROL is a kmend ID (KM-002) or another tool's ID that maps to it
(C-0016, KSV001, privilegeEscalationAllowed, CKV_K8S_20…).

explain FILE[:LINE] checks the file and explains each finding at that line
(or in the object around it; the whole file without :LINE), with the patch
to apply by hand and kubectl commands.`,
		Example: `  kmend explain KM-007
  kmend explain C-0016
  kmend explain deploy/web.yaml:23`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cat, err := g.catalog()
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if cs := lookupControl(cat, args[0]); len(cs) > 0 {
				for i, c := range cs {
					if i > 0 {
						fmt.Fprintln(w)
					}
					explainControl(w, c)
				}
				return nil
			}
			return explainFile(g, sel, cat, args[0], w)
		},
	}
	cmd.Flags().StringArrayVar(&sel.params, "set", nil, "override a fix parameter: `CONTROL.PARAM=VALUE`")
	return cmd
}

func lookupControl(cat *catalog.Catalog, arg string) []*catalog.Control {
	if c, ok := cat.Get(arg); ok {
		return []*catalog.Control{c}
	}
	return cat.Lookup("", arg)
}

func explainControl(w io.Writer, c *catalog.Control) {
	fmt.Fprintf(w, "%s  %s\n", c.ID, c.Title)
	fmt.Fprintf(w, "severity: %s   fixability: %s   category: %s", c.Severity, c.Fix.Fixability, c.Category)
	if c.PSS != "" {
		fmt.Fprintf(w, "   Pod Security Standards: %s", c.PSS)
	}
	fmt.Fprintln(w)
	var foreign []string
	c.ForeignIDs.Each(func(tool, id string) { foreign = append(foreign, tool+" "+id) })
	if len(foreign) > 0 {
		fmt.Fprintf(w, "also known as: %s\n", strings.Join(foreign, ", "))
	}
	fmt.Fprintf(w, "\nWhy it matters\n%s\n", wrap(c.Rationale, 78, "  "))
	fmt.Fprintf(w, "\nWhat is checked\n  %s-level field %s", c.Check.Level, c.Check.Field)
	if c.Check.PodField != "" {
		fmt.Fprintf(w, " (else the pod's %s)", c.Check.PodField)
	}
	fmt.Fprintln(w)
	params, _ := c.Defaults(nil)
	data := catalog.TemplateData{Params: params, Observed: "<value>", Container: "<container>", Field: c.Check.Field}
	for _, r := range []struct{ name, text string }{{"unset", c.Why.Unset}, {"risky", c.Why.Risky}, {"inherited", c.Why.Inherited}} {
		if r.text != "" {
			data.Reason = r.name
			fmt.Fprintf(w, "  %-9s %s\n", r.name+":", strings.TrimSpace(wrap(c.WhyText(r.name, data), 66, "            ")))
		}
	}
	fmt.Fprintf(w, "\nHow to fix (%s)\n", c.Fix.Fixability)
	for _, p := range c.Fix.Params {
		fmt.Fprintf(w, "  parameter %s = %s  %s  (--set %s.%s=…)\n", p.Name, p.Default, p.Description, c.ID, p.Name)
	}
	if c.Fix.StrategicMerge != "" {
		smp, _ := catalog.Render("smp", c.Fix.StrategicMerge, data)
		ops, _ := catalog.Render("ops", c.Fix.JSONPatch, data)
		fmt.Fprintf(w, "  strategic-merge patch (relative to the %s):\n%s", levelOf(c), indent(smp, "    "))
		fmt.Fprintf(w, "  RFC 6902 (relative to the %s):\n%s", levelOf(c), indent(ops, "    "))
	} else {
		fmt.Fprintln(w, "  kmend does not change this automatically; see the rationale and references.")
	}
	if c.Fix.Pod != nil {
		smp, _ := catalog.Render("smp", c.Fix.Pod.StrategicMerge, data)
		fmt.Fprintf(w, "  when the pod-level setting decides, the pod template gets:\n%s", indent(smp, "    "))
	}
	if len(c.Caveats) > 0 {
		fmt.Fprintln(w, "\nBefore merging")
		for _, cv := range c.Caveats {
			fmt.Fprintf(w, "  - %s\n", strings.TrimSpace(wrap(cv, 74, "    ")))
		}
	}
	fmt.Fprintln(w, "\nReferences")
	for _, r := range c.References {
		fmt.Fprintf(w, "  %s\n", r)
	}
	fmt.Fprintf(w, "\nExempt an object: annotate it with %s%s: \"<why>\"\n", check.ExemptPrefix, c.ID)
}

func levelOf(c *catalog.Control) string {
	l := c.Fix.Level
	if l == "" {
		l = c.Check.Level
	}
	if l == catalog.LevelPod {
		return "pod template"
	}
	return l
}

func explainFile(g *globals, sel *selection, cat *catalog.Catalog, arg string, w io.Writer) error {
	file, line := arg, 0
	if i := strings.LastIndex(arg, ":"); i > 0 {
		if n, err := strconv.Atoi(arg[i+1:]); err == nil {
			file, line = arg[:i], n
		}
	}
	copts, err := sel.checkOptions(cat)
	if err != nil {
		return err
	}
	set, err := g.load([]string{file}, nil)
	if err != nil {
		return err
	}
	if len(set.Errors) > 0 {
		for _, e := range inputErrors(set) {
			fmt.Fprintln(w, formatInputError(e))
		}
		return withCode(exitError, fmt.Errorf("%s could not be read", file))
	}
	if len(set.Files) == 0 {
		return withCode(exitError, fmt.Errorf("%q is neither a control (kmend catalog list) nor a YAML file", arg))
	}
	results := runChecks(set, cat.All(), copts)
	picked := pick(results, line)
	if len(picked) == 0 {
		where := file
		if line > 0 {
			where = fmt.Sprintf("%s:%d", file, line)
		}
		fmt.Fprintf(w, "no findings at %s\n", where)
		return nil
	}
	for i, r := range picked {
		if i > 0 {
			fmt.Fprintln(w, "\n"+strings.Repeat("─", 72))
		}
		explainFinding(w, r)
	}
	return nil
}

// pick keeps the results at line, else those of the object around line.
func pick(results []check.Result, line int) []check.Result {
	if line <= 0 {
		return results
	}
	var exact []check.Result
	for _, r := range results {
		if r.Finding.Position.Line == line {
			exact = append(exact, r)
		}
	}
	if len(exact) > 0 {
		return exact
	}
	// The object whose start is the last one at or before line.
	best := 0
	for _, r := range results {
		if l := r.Root.YNode().Line; l <= line && l > best {
			best = l
		}
	}
	var out []check.Result
	for _, r := range results {
		if r.Root.YNode().Line == best {
			out = append(out, r)
		}
	}
	return out
}

func explainFinding(w io.Writer, r check.Result) {
	f := r.Finding
	fmt.Fprintf(w, "%s  %s  [%s]\n", f.ControlID, f.Title, f.Severity)
	fmt.Fprintf(w, "%s:%d  %s", f.Position.File, f.Position.Line, f.Object)
	if f.Container != "" {
		fmt.Fprintf(w, "  container %s", f.Container)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "field %s: %s", f.Path, f.Reason)
	if f.Observed != "" {
		fmt.Fprintf(w, " (%s)", f.Observed)
	}
	fmt.Fprintf(w, "\n\n%s\n", wrap(f.Message, 78, ""))
	if f.Suppression != nil {
		fmt.Fprintf(w, "\nexempted by %s: %s\n", f.Suppression.Annotation, f.Suppression.Justification)
	}
	fmt.Fprintf(w, "\nWhy it matters\n%s\n", wrap(r.Control.Rationale, 78, "  "))
	if f.ReviewNote != "" {
		fmt.Fprintf(w, "\nNeeds review: %s\n", f.ReviewNote)
	}
	if r.Control.Fix.StrategicMerge != "" {
		fx, err := patch.New(r, r.Root)
		if err == nil {
			fmt.Fprintf(w, "\nThe fix (%s)\n", f.Fixability)
			output.WritePatches(w, []*patch.Fix{fx})
		}
	} else {
		fmt.Fprintf(w, "\nThe fix (%s): kmend will not change this; kmend explain %s says how.\n", finding.FixManual, f.ControlID)
	}
	for _, cv := range r.Control.Caveats {
		fmt.Fprintf(w, "caveat: %s\n", strings.TrimSpace(cv))
	}
}

func indent(s, prefix string) string {
	s = strings.TrimRight(s, "\n")
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix) + "\n"
}

// wrap folds text at width, each line prefixed.
func wrap(s string, width int, prefix string) string {
	var b strings.Builder
	for _, para := range strings.Split(strings.TrimSpace(s), "\n\n") {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		n := 0
		b.WriteString(prefix)
		for _, word := range strings.Fields(para) {
			if n > 0 && n+1+len(word) > width {
				b.WriteString("\n" + prefix)
				n = 0
			} else if n > 0 {
				b.WriteByte(' ')
				n++
			}
			b.WriteString(word)
			n += len(word)
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}
