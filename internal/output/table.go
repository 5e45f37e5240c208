package output

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kmend/kmend/internal/finding"
)

// TableOptions tune WriteTable.
type TableOptions struct {
	// Color adds ANSI colours. The CLI sets it when standard output is a
	// terminal and NO_COLOR is unset; WriteTable never looks itself.
	Color bool
	// Width is the terminal's width: messages are wrapped to it. Zero or
	// less means no wrapping.
	Width int
	// Verbose adds each finding's field path and fix, the suppressed
	// findings, the skipped inputs and the rationale of each control.
	Verbose bool
}

// Layout of a finding: "    SEVERITY  ID  …" with the message below,
// aligned under the control ID.
const (
	objectIndent  = "  "
	findingIndent = "    "
	severityWidth = len("CRITICAL")
	minWrapWidth  = 20
)

// ANSI SGR codes.
const (
	sgrBold   = "1"
	sgrDim    = "2"
	sgrRed    = "31"
	sgrYellow = "33"
	sgrBlue   = "34"
	sgrCyan   = "36"
)

// WriteTable writes r for a person at a terminal: findings grouped by file,
// then by object, most severe first within an object; then a summary
// (counts by severity and fixability, score, suppressed, errors with
// file:line).
func WriteTable(w io.Writer, r *Report, opts TableOptions) error {
	bw := bufio.NewWriter(w)
	t := &table{w: bw, opts: opts}
	t.write(r)
	return bw.Flush()
}

type table struct {
	w    *bufio.Writer
	opts TableOptions
	// idWidth aligns control IDs.
	idWidth int
}

func (t *table) paint(code, s string) string {
	if !t.opts.Color || code == "" || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func severityColor(s finding.Severity) string {
	switch s {
	case finding.SeverityCritical:
		return sgrBold + ";" + sgrRed
	case finding.SeverityHigh:
		return sgrRed
	case finding.SeverityMedium:
		return sgrYellow
	case finding.SeverityLow:
		return sgrCyan
	case finding.SeverityInfo:
		return sgrBlue
	}
	return ""
}

func (t *table) line(parts ...string) {
	t.w.WriteString(strings.Join(parts, ""))
	t.w.WriteByte('\n')
}

// paragraph writes text wrapped to the width, each line after indent.
func (t *table) paragraph(indent, text, color string) {
	width := 0
	if t.opts.Width > 0 {
		width = max(t.opts.Width-utf8.RuneCountInString(indent), minWrapWidth)
	}
	for _, l := range wrap(text, width) {
		if l == "" {
			t.line()
			continue
		}
		t.line(indent, t.paint(color, l))
	}
}

func (t *table) write(r *Report) {
	findings := sortForTable(r.Findings)
	suppressed := sortForTable(r.Suppressed)
	for _, f := range slices.Concat(findings, suppressed) {
		t.idWidth = max(t.idWidth, utf8.RuneCountInString(f.ControlID))
	}

	if len(findings) == 0 {
		t.line("No findings.")
	} else {
		t.findings(findings, false)
	}
	if t.opts.Verbose && len(suppressed) > 0 {
		t.line()
		t.line(t.paint(sgrBold, "Suppressed"))
		t.findings(suppressed, true)
	}
	if t.opts.Verbose && len(r.Skipped) > 0 {
		t.line()
		t.line(t.paint(sgrBold, "Skipped"))
		for _, s := range sortedCopy(r.Skipped, func(a, b Skipped) int { return cmp.Compare(a.File, b.File) }) {
			t.paragraph(objectIndent, s.File+": "+s.Reason, "")
		}
	}
	if t.opts.Verbose {
		t.rationales(r.Rules, findings)
	}
	t.line()
	t.summary(r, findings)
}

// sortForTable orders findings by file, then object (in document order),
// then most severe first, then container, control, path and line.
func sortForTable(fs []finding.Finding) []finding.Finding {
	out := slices.Clone(fs)
	slices.SortStableFunc(out, func(a, b finding.Finding) int {
		return cmp.Or(
			cmp.Compare(a.Position.File, b.Position.File),
			cmp.Compare(a.Object.Cluster, b.Object.Cluster),
			cmp.Compare(a.Position.Document, b.Position.Document),
			cmp.Compare(a.Object.String(), b.Object.String()),
			cmp.Compare(b.Severity, a.Severity),
			cmp.Compare(a.Container, b.Container),
			cmp.Compare(a.ControlID, b.ControlID),
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Position.Line, b.Position.Line),
		)
	})
	return out
}

func fileHeader(f finding.Finding) string {
	switch {
	case f.Position.File != "":
		return f.Position.File
	case f.Object.Cluster != "":
		return "cluster " + f.Object.Cluster
	default:
		return "(not read from a file)"
	}
}

func (t *table) findings(fs []finding.Finding, suppressed bool) {
	var file, object string
	for i, f := range fs {
		if h := fileHeader(f); i == 0 || h != file {
			if i > 0 {
				t.line()
			}
			file, object = h, ""
			t.line(t.paint(sgrBold, file))
		}
		if o := f.Object.String() + "\x00" + strconv.Itoa(f.Position.Document); o != object {
			object = o
			t.line(objectIndent, t.paint(sgrBold, f.Object.String()))
		}
		t.finding(f, suppressed)
	}
}

func (t *table) finding(f finding.Finding, suppressed bool) {
	sev := strings.ToUpper(f.Severity.String())
	head := []string{
		findingIndent,
		t.paint(severityColor(f.Severity), sev), strings.Repeat(" ", max(severityWidth-len(sev), 0)), "  ",
		f.ControlID, strings.Repeat(" ", max(t.idWidth-utf8.RuneCountInString(f.ControlID), 0)),
	}
	if f.Container != "" {
		head = append(head, "  container ", f.Container)
	}
	head = append(head, "  ", reasonText(f))
	indent := findingIndent + strings.Repeat(" ", severityWidth+2)
	if f.Position.File != "" {
		loc := formatFileLine(f.Position.File, f.Position.Line)
		width := len(findingIndent) + severityWidth + 2 // severity padded
		for _, p := range head[4:] {
			width += utf8.RuneCountInString(p)
		}
		if t.opts.Width > 0 && width+2+utf8.RuneCountInString(loc) > t.opts.Width {
			// Too long for one line: the location goes below.
			t.line(head...)
			t.line(indent, t.paint(sgrDim, loc))
		} else {
			t.line(append(head, "  ", t.paint(sgrDim, loc))...)
		}
	} else {
		t.line(head...)
	}

	t.paragraph(indent, cmp.Or(unwrap(f.Message), f.Title), "")
	if suppressed && f.Suppression != nil {
		s := "exempted by " + f.Suppression.Annotation
		if f.Suppression.Justification != "" {
			s += ": " + f.Suppression.Justification
		}
		t.paragraph(indent, s, sgrDim)
	}
	if t.opts.Verbose {
		if f.Path != "" {
			t.paragraph(indent, "field: "+f.Path, sgrDim)
		}
		fix := "fix: " + string(f.Fixability)
		if f.ReviewNote != "" {
			fix += " (" + f.ReviewNote + ")"
		}
		t.paragraph(indent, fix, sgrDim)
		if f.Origin != "" && f.Origin != "kmend" {
			s := "reported by " + f.Origin
			if f.ForeignID != "" {
				s += " as " + f.ForeignID
			}
			t.paragraph(indent, s, sgrDim)
		}
	}
}

// rationales lists, for each control with findings, why it matters.
func (t *table) rationales(rules []Rule, findings []finding.Finding) {
	ids := map[string]string{}
	for _, f := range findings {
		ids[f.ControlID] = f.Title
	}
	if len(ids) == 0 {
		return
	}
	byID := map[string]Rule{}
	for _, r := range rules {
		byID[r.ID] = r
	}
	t.line()
	t.line(t.paint(sgrBold, "Why these controls matter"))
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		r, ok := byID[id]
		title := cmp.Or(r.Title, ids[id])
		t.paragraph(objectIndent, id+"  "+title, sgrBold)
		if ok && r.Rationale != "" {
			t.paragraph(findingIndent, unwrap(r.Rationale), "")
		}
		t.paragraph(findingIndent, "kmend explain "+id+" shows the fix.", sgrDim)
	}
}

func (t *table) summary(r *Report, findings []finding.Finding) {
	bySev := map[finding.Severity]int{}
	byFix := map[finding.Fixability]int{}
	objects := map[string]bool{}
	for _, f := range findings {
		bySev[f.Severity]++
		byFix[f.Fixability]++
		objects[f.Object.Cluster+"\x00"+f.Position.File+"\x00"+strconv.Itoa(f.Position.Document)+"\x00"+f.Object.String()] = true
	}

	var sevs []string
	for _, s := range slices.Backward(allSeverities) {
		if n := bySev[s]; n > 0 {
			sevs = append(sevs, t.paint(severityColor(s), fmt.Sprintf("%d %s", n, s)))
		}
	}
	if n := bySev[finding.SeverityUnknown]; n > 0 {
		sevs = append(sevs, fmt.Sprintf("%d unknown", n))
	}
	head := fmt.Sprintf("%s in %s", plural(len(findings), "finding"), plural(len(objects), "object"))
	if len(sevs) > 0 {
		head += ": " + strings.Join(sevs, ", ")
	}
	t.line(t.paint(sgrBold, "Summary"))
	t.line(objectIndent, head)
	t.line(objectIndent, fmt.Sprintf("Fixable: %d automatically, %d after review, %d by hand",
		byFix[finding.FixAuto], byFix[finding.FixReview], byFix[finding.FixManual]))
	t.line(objectIndent, fmt.Sprintf("Score: %s/100 (%s, %s scanned)",
		formatScore(r.Summary.Score), plural(r.Summary.Files, "file"), plural(r.Summary.Objects, "object")))
	supp := fmt.Sprintf("Suppressed: %d", len(r.Suppressed))
	if len(r.Suppressed) > 0 && !t.opts.Verbose {
		supp += " (-v lists them)"
	}
	t.line(objectIndent, supp)
	if len(r.Skipped) > 0 {
		s := fmt.Sprintf("Skipped: %d", len(r.Skipped))
		if !t.opts.Verbose {
			s += " (-v lists them)"
		}
		t.line(objectIndent, s)
	}
	errs := sortedCopy(r.Errors, compareErrors)
	t.line(objectIndent, t.paint(errColor(len(errs)), fmt.Sprintf("Errors: %d", len(errs))))
	for _, e := range errs {
		t.paragraph(findingIndent, formatFileLine(e.File, e.Line)+": "+e.Message, sgrRed)
	}
}

func errColor(n int) string {
	if n > 0 {
		return sgrRed
	}
	return ""
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// formatScore writes a score with at most one decimal: 62.5, 100.
func formatScore(s float64) string {
	return strings.TrimSuffix(strconv.FormatFloat(s, 'f', 1, 64), ".0")
}

// wrap splits text into lines of at most width runes, breaking between
// words; a word longer than width gets a line of its own. Line breaks in
// text are kept. width <= 0 means no wrapping.
func wrap(text string, width int) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		words := strings.Fields(para)
		if width <= 0 {
			out = append(out, strings.Join(words, " "))
			continue
		}
		var cur strings.Builder
		n := 0
		for _, w := range words {
			wl := utf8.RuneCountInString(w)
			if n > 0 && n+1+wl > width {
				out = append(out, cur.String())
				cur.Reset()
				n = 0
			}
			if n > 0 {
				cur.WriteByte(' ')
				n++
			}
			cur.WriteString(w)
			n += wl
		}
		out = append(out, cur.String())
	}
	return out
}
