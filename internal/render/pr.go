package render

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/lazyre"
)

// Options tune PR and Onboarding.
type Options struct {
	// BlobURL links file:line when set: BlobURL/path#Lline, e.g.
	// "https://github.com/acme/shop/blob/main". Lines are those of the base
	// branch (before the fix), so it should name the base branch or a
	// commit of it.
	BlobURL string
	// Limit is the most a body or a comment may hold, as Length counts;
	// 0 means MaxLength.
	Limit int
	// FoldDiffLines: when the diffs have more lines than this in all, each
	// file's diff is folded into <details>; 0 means 200, a negative value
	// always folds.
	FoldDiffLines int
}

const defaultFoldDiffLines = 200

func (o Options) withDefaults() Options {
	if o.Limit <= 0 {
		o.Limit = MaxLength
	}
	if o.FoldDiffLines == 0 {
		o.FoldDiffLines = defaultFoldDiffLines
	}
	return o
}

// Rendered is a pull request's text: its title and body, and the comments
// to post after it, in order, when the body alone would be too long.
type Rendered struct {
	Title    string
	Body     string
	Comments []string
}

// Errors of PR.
var (
	// ErrEmpty: the change set has no fixes and no findings.
	ErrEmpty = errors.New("render: the change set has no fixes and no findings")
	// ErrTooLarge: even with everything else moved to comments, the
	// introduction and the metadata block do not fit in one body (more
	// than about 3,000 fixed findings): group the fixes more finely.
	ErrTooLarge = errors.New("render: the change set is too large for one pull request body")
)

// GitHub truncates longer titles.
const maxTitle = 256

// Layout levels, tried in turn until the body fits: 0 everything in the
// body; 1 diffs folded; 2 the manual fallback in comments; 3 the diffs too;
// 4 the controls' explanations too; 5 the table of findings left for
// review too, and the table of fixes continues in comments if it must.
const maxLevel = 5

// PR renders the pull request for a change set: its title, its body
// (summary table, what each control protects against and what to watch
// for, the diff, the manual fallback, a footer and the hidden metadata
// block) and, when the body would be longer than opts.Limit, the comments
// that continue it. Every part is at most opts.Limit long as Length counts,
// and no code block, patch or table row is cut.
func PR(cs ChangeSet, opts Options) (Rendered, error) {
	opts = opts.withDefaults()
	d, err := prepare(cs, opts)
	if err != nil {
		return Rendered{}, err
	}
	meta, err := metadataBlock(d.metadata())
	if err != nil {
		return Rendered{}, err
	}
	var ex executor
	title := d.title(&ex)
	// The sections' texts do not depend on the level but for the folding
	// of the diffs: they are made once.
	secs := [2][]*section{d.sections(&ex, false), d.sections(&ex, true)}
	for level := 0; ; level++ {
		if level == 1 && d.folds() {
			continue // level 0 folded the diffs already
		}
		r, overflow, err := d.layout(&ex, secs[min(level, 1)], level, meta)
		if err == nil {
			err = ex.err
		}
		if err != nil {
			return Rendered{}, err
		}
		if !overflow || level == maxLevel {
			r.Title = title
			return r, nil
		}
	}
}

// prData is a change set sorted and counted for rendering.
type prData struct {
	cs       ChangeSet
	opts     Options
	fixes    []Fix
	left     []Left
	files    []FileDiff
	controls []controlUse
	objects  int
	findings int
	review   int
	// fixedControls counts the controls with fixed findings.
	fixedControls int
}

// controlUse is a control with how many of its findings are fixed and left.
type controlUse struct {
	id, title string
	severity  finding.Severity
	control   *catalog.Control
	fixed     int
	left      int
}

func objectKey(file string, o finding.ObjectRef) string {
	return file + "\x00" + o.Cluster + "\x00" + o.String()
}

func prepare(cs ChangeSet, opts Options) (*prData, error) {
	if len(cs.Fixes) == 0 && len(cs.Left) == 0 {
		return nil, ErrEmpty
	}
	d := &prData{cs: cs, opts: opts}
	for i, f := range cs.Fixes {
		if len(f.Findings) == 0 {
			return nil, fmt.Errorf("render: fix %d has no findings", i)
		}
	}
	// Objects in file order; the fixes of one object keep their order.
	d.fixes = slices.Clone(cs.Fixes)
	slices.SortStableFunc(d.fixes, func(a, b Fix) int {
		return cmp.Or(cmp.Compare(a.File, b.File), compareObjects(a.Findings[0].Object, b.Findings[0].Object))
	})
	d.left = slices.Clone(cs.Left)
	slices.SortStableFunc(d.left, func(a, b Left) int { return finding.Compare(a.Finding, b.Finding) })
	d.files = slices.Clone(cs.Files)
	slices.SortStableFunc(d.files, func(a, b FileDiff) int { return cmp.Compare(a.Path, b.Path) })

	uses := map[string]*controlUse{}
	use := func(c *catalog.Control, f finding.Finding) *controlUse {
		id := f.ControlID
		if c != nil {
			id = c.ID
		}
		u := uses[id]
		if u == nil {
			u = &controlUse{id: id, title: f.Title, severity: f.Severity, control: c}
			if c != nil {
				u.title, u.severity = c.Title, c.Severity
			}
			uses[id] = u
		}
		return u
	}
	objects := map[string]bool{}
	for _, f := range d.fixes {
		objects[objectKey(f.File, f.Findings[0].Object)] = true
		review := false
		for _, fd := range f.Findings {
			use(f.Control, fd).fixed++
			d.findings++
			review = review || fd.Fixability == finding.FixReview
		}
		if review {
			d.review++
		}
	}
	d.objects = len(objects)
	for _, l := range d.left {
		use(l.Control, l.Finding).left++
	}
	for _, u := range uses {
		d.controls = append(d.controls, *u)
		if u.fixed > 0 {
			d.fixedControls++
		}
	}
	slices.SortFunc(d.controls, func(a, b controlUse) int { return cmp.Compare(a.id, b.id) })
	return d, nil
}

func compareObjects(a, b finding.ObjectRef) int {
	return cmp.Or(cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.Namespace, b.Namespace),
		cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
}

func (d *prData) metadata() Metadata {
	m := Metadata{Kind: KindFix, Repo: d.cs.Repo, Base: d.cs.Base, Head: d.cs.Head, Group: d.cs.Group.Key, Catalog: d.cs.Catalog, Config: d.cs.Config}
	for _, f := range d.fixes {
		for _, fd := range f.Findings {
			m.Fingerprints = append(m.Fingerprints, fd.Fingerprint())
		}
	}
	for _, c := range d.controls {
		if c.fixed > 0 {
			m.Controls = append(m.Controls, c.id)
		}
	}
	return m
}

func (d *prData) title(ex *executor) string {
	t := ex.exec("title", map[string]any{
		"Workloads": d.objects,
		"Controls":  d.fixedControls,
		"Left":      len(d.left),
		"Group":     cut(plain(d.cs.Group.Title), 80),
	})
	return cut(plain(t), maxTitle)
}

// sections makes the sections of the document, in order; a section
// with nothing to show is nil.
func (d *prData) sections(ex *executor, foldDiffs bool) []*section {
	return []*section{
		d.fixedSection(ex),
		d.leftSection(ex),
		d.controlsSection(ex),
		d.diffsSection(ex, foldDiffs),
		d.fallbackSection(ex),
	}
}

// folds reports whether the diffs are folded at every level.
func (d *prData) folds() bool {
	if d.opts.FoldDiffLines < 0 {
		return true
	}
	lines := 0
	for _, f := range d.files {
		lines += strings.Count(f.Diff, "\n")
	}
	return lines > d.opts.FoldDiffLines
}

// layout renders the body and comments at a level; overflow reports that
// the sections meant for the body did not fit in it.
func (d *prData) layout(ex *executor, secs []*section, level int, meta string) (Rendered, bool, error) {
	for _, s := range secs {
		s.reset()
	}
	moved := max(0, level-1)
	var names []string
	for _, s := range secs {
		if s != nil {
			names = append(names, s.name)
		}
	}
	footer := ex.exec("footer", nil)
	noticeMax := d.notice(ex, names, 99999)
	headMax := ex.exec("comment.head", map[string]any{"Index": 99999, "Total": 99999})
	tail := "\n" + meta + "\n"
	p := newPacker(d.opts.Limit, Length("\n\n"+noticeMax+footer+tail), Length(headMax))
	intro := d.intro(ex)
	if err := p.writeFree(intro); err != nil {
		return Rendered{}, false, fmt.Errorf("%w (%d fixed findings)", ErrTooLarge, d.findings)
	}
	overflow := false
	for i, s := range secs {
		if s == nil {
			continue
		}
		if i >= len(secs)-moved {
			p.breakBody()
		}
		if err := p.section(s); err != nil {
			return Rendered{}, false, fmt.Errorf("render: %s: an item does not fit in a comment of %d characters", s.name, d.opts.Limit)
		}
		if i < len(secs)-moved && len(p.parts) > 1 {
			overflow = true
			if level < maxLevel {
				return Rendered{}, true, nil // the next level will do
			}
		}
	}
	p.finish()

	var r Rendered
	n := len(p.parts) - 1
	var body strings.Builder
	body.WriteString(strings.TrimRight(p.parts[0].b.String(), "\n"))
	body.WriteString("\n\n")
	if n > 0 {
		var cont []string
		for _, c := range p.parts[1:] {
			for _, name := range c.names {
				if !slices.Contains(cont, name) {
					cont = append(cont, name)
				}
			}
		}
		body.WriteString(d.notice(ex, cont, n))
	}
	body.WriteString(footer)
	body.WriteString(tail)
	r.Body = body.String()
	for i, c := range p.parts[1:] {
		head := ex.exec("comment.head", map[string]any{"Index": i + 1, "Total": n})
		r.Comments = append(r.Comments, head+strings.TrimRight(c.b.String(), "\n")+"\n")
	}
	return r, overflow, nil
}

func (d *prData) notice(ex *executor, names []string, comments int) string {
	return ex.exec("notice", map[string]any{
		"What":     listing(names),
		"Plural":   len(names) > 1,
		"Comments": comments,
	})
}

// listing joins "a", "b" and "c" as "a, b and c".
func listing(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

func (d *prData) intro(ex *executor) string {
	return ex.exec("intro", map[string]any{
		"Findings":  d.findings,
		"Controls":  d.fixedControls,
		"Workloads": d.objects,
		"Files":     len(d.files),
		"Left":      len(d.left),
		"Review":    d.review,
		"Group":     cell(cmp.Or(d.cs.Group.Title, d.cs.Repo)),
		"Repo":      cell(d.cs.Repo),
		"Base":      codeOrEmpty(d.cs.Base),
	})
}

func codeOrEmpty(s string) string {
	if s == "" {
		return ""
	}
	return code(s)
}

func heading(ex *executor, title string) (string, string) {
	return ex.exec("heading", map[string]any{"Title": title}),
		ex.exec("heading", map[string]any{"Title": title, "Continued": true})
}

// newSection makes a section; intro follows the heading the first time
// only, and always together with the first item.
func newSection(ex *executor, name, title, intro string, groups ...*group) *section {
	h, rh := heading(ex, title)
	return &section{name: name, heading: h + intro, reheading: rh, groups: groups}
}

// row is a table row's cells, escaped.
type row struct {
	ID, Title, Severity, Object, Container, Where, Why, Review, Status string
}

func (d *prData) rowOf(f finding.Finding, c *catalog.Control) row {
	r := row{
		ID:        cell(f.ControlID),
		Title:     cell(f.Title),
		Severity:  f.Severity.String(),
		Object:    cell(f.Object.String()),
		Container: "—",
		Where:     fileLink(d.opts.BlobURL, f.Position.File, f.Position.Line),
		Why:       whyCell(f),
	}
	if c != nil {
		r.ID, r.Title = cell(c.ID), cell(c.Title)
	}
	if f.Container != "" {
		r.Container = cell(f.Container)
	}
	return r
}

// whyCell says why the control failed: unset, risky with the observed
// value, inherited from the pod, reported by another scanner.
func whyCell(f finding.Finding) string {
	switch f.Reason {
	case finding.ReasonUnset:
		return "unset"
	case finding.ReasonRisky:
		if f.Observed != "" {
			return "risky: " + code(f.Observed)
		}
		return "risky"
	case finding.ReasonInherited:
		if f.Observed != "" {
			return "inherited from the pod: " + code(f.Observed)
		}
		return "inherited from the pod"
	case finding.ReasonReported:
		s := "reported"
		if f.Origin != "" {
			s += " by " + cell(f.Origin)
		}
		if f.ForeignID != "" {
			s += " as " + code(f.ForeignID)
		}
		return s
	}
	return cell(string(f.Reason))
}

func tableGroup(ex *executor, head string) *group {
	h := ex.exec(head, nil)
	return &group{open: h, reopen: h, close: ex.exec("table.end", nil)}
}

func (d *prData) fixedSection(ex *executor) *section {
	if len(d.fixes) == 0 {
		return nil
	}
	type fr struct {
		f      finding.Finding
		c      *catalog.Control
		review string
	}
	var rows []fr
	for _, f := range d.fixes {
		for _, fd := range f.Findings {
			r := fr{f: fd, c: f.Control}
			if fd.Fixability == finding.FixReview {
				switch {
				case fd.ReviewNote != "":
					r.review = cell(fd.ReviewNote)
				case f.Control != nil && len(f.Control.Caveats) > 0:
					r.review = "confirm it: see *Before merging* under " + cell(f.Control.ID)
				default:
					r.review = "confirm the value before merging"
				}
			}
			rows = append(rows, r)
		}
	}
	slices.SortStableFunc(rows, func(a, b fr) int { return finding.Compare(a.f, b.f) })
	g := tableGroup(ex, "fixed.head")
	for _, r := range rows {
		vm := d.rowOf(r.f, r.c)
		vm.Review = r.review
		g.items = append(g.items, item{text: ex.exec("fixed.row", vm), tooLarge: ex.exec("row.toolarge", vm)})
	}
	return newSection(ex, "the table of fixed findings", "Fixed findings", "", g)
}

func (d *prData) leftSection(ex *executor) *section {
	if len(d.left) == 0 {
		return nil
	}
	g := tableGroup(ex, "left.head")
	for _, l := range d.left {
		vm := d.rowOf(l.Finding, l.Control)
		vm.Status = cell(l.Why)
		if l.Patch != nil {
			vm.Status += "; patch under *Apply by hand*"
		}
		g.items = append(g.items, item{text: ex.exec("left.row", vm), tooLarge: ex.exec("row.toolarge", vm)})
	}
	return newSection(ex, "the findings left for review", "Left for review", ex.exec("left.intro", nil), g)
}

func (d *prData) controlsSection(ex *executor) *section {
	g := &group{}
	for _, u := range d.controls {
		vm := map[string]any{"ID": cell(u.id), "Title": cell(u.title), "Facts": controlFacts(u)}
		if c := u.control; c != nil {
			vm["Rationale"] = paragraphs(c.Rationale)
			var cav, refs []string
			for _, s := range c.Caveats {
				cav = append(cav, esc(strings.Join(strings.Fields(s), " ")))
			}
			for _, s := range c.References {
				if isURL(s) {
					refs = append(refs, "<"+s+">")
				} else {
					refs = append(refs, cell(s))
				}
			}
			vm["Caveats"], vm["References"] = cav, refs
		}
		g.items = append(g.items, item{text: ex.exec("control", vm)})
	}
	return newSection(ex, "what the controls protect against", "What the controls protect against", "", g)
}

// controlFacts is a control's severity, profile and counts.
func controlFacts(u controlUse) string {
	parts := []string{"**" + u.severity.String() + "**"}
	if u.control != nil && u.control.PSS != "" {
		parts = append(parts, "Pod Security Standards: "+cell(u.control.PSS))
	}
	if u.fixed > 0 {
		parts = append(parts, "fixes "+plural(u.fixed, "finding")+" here")
	}
	if u.left > 0 {
		parts = append(parts, plural(u.left, "finding")+" left for review")
	}
	return strings.Join(parts, " · ")
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return itoa(n) + " " + pluralOf(noun)
}

// paragraphs escapes a folded YAML text, keeping its paragraphs.
func paragraphs(s string) string {
	ps := strings.Split(strings.TrimSpace(s), "\n\n")
	for i, p := range ps {
		ps[i] = esc(strings.Join(strings.Fields(p), " "))
	}
	return strings.Join(ps, "\n\n")
}

func (d *prData) diffsSection(ex *executor, fold bool) *section {
	if len(d.files) == 0 {
		return nil
	}
	fold = fold || d.folds()
	var groups []*group
	for _, f := range d.files {
		header, hunks := splitHunks(f.Diff)
		added, removed := diffStat(hunks)
		g := &group{}
		if fold {
			vm := map[string]any{"Path": cell(f.Path), "Added": added, "Removed": removed}
			g.open = ex.exec("diff.open", vm)
			vm["Continued"] = true
			g.reopen = ex.exec("diff.open", vm)
			g.close = ex.exec("details.close", nil)
		}
		tooLarge := func(text string) string {
			return ex.exec("diff.toolarge", map[string]any{"Path": cell(f.Path), "Lines": strings.Count(text, "\n")})
		}
		g.items = []item{{
			text:     fence("diff", f.Diff) + "\n",
			tooLarge: tooLarge(f.Diff),
			split: func() []item {
				var out []item
				for _, h := range hunks {
					out = append(out, item{text: fence("diff", header+h) + "\n", tooLarge: tooLarge(h)})
				}
				return out
			},
		}}
		groups = append(groups, g)
	}
	return newSection(ex, "the diffs", "Changes", "", groups...)
}

// splitHunks splits a unified diff into its file header and its hunks.
func splitHunks(diff string) (string, []string) {
	lines := strings.SplitAfter(diff, "\n")
	var header strings.Builder
	var hunks []string
	var cur strings.Builder
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "@@"):
			if cur.Len() > 0 {
				hunks = append(hunks, cur.String())
				cur.Reset()
			}
			cur.WriteString(l)
		case cur.Len() == 0 && len(hunks) == 0:
			header.WriteString(l)
		default:
			cur.WriteString(l)
		}
	}
	if cur.Len() > 0 {
		hunks = append(hunks, cur.String())
	}
	return header.String(), hunks
}

func diffStat(hunks []string) (added, removed int) {
	for _, h := range hunks {
		for _, l := range strings.Split(h, "\n") {
			switch {
			case strings.HasPrefix(l, "+"):
				added++
			case strings.HasPrefix(l, "-"):
				removed++
			}
		}
	}
	return added, removed
}

// A name a shell reads as one word, and that Kubernetes accepts.
var kubeName = lazyre.New(`^[A-Za-z0-9]([-A-Za-z0-9._]*[A-Za-z0-9])?$`)

// kubectlSafe reports whether the kubectl commands of an object can be
// shown to copy: kmend's commands quote the patch but not the object's
// kind, name and namespace.
func kubectlSafe(o finding.ObjectRef, cmds []string) bool {
	if !kubeName.MatchString(o.Kind) || !kubeName.MatchString(o.Name) ||
		(o.Namespace != "" && !kubeName.MatchString(o.Namespace)) {
		return false
	}
	for _, c := range cmds {
		if strings.ContainsFunc(c, invisible) {
			return false
		}
	}
	return true
}

// patchVM is a fix of the manual fallback, escaped and fenced.
type patchVM struct {
	ID, Title, Container, Where, Object      string
	StrategicMerge, JSONPatch, Kubectl, Note string
	Left                                     bool
}

func (d *prData) patchItem(ex *executor, c *catalog.Control, fs []finding.Finding, file string, line int, p Patch, left bool) item {
	f := fs[0]
	vm := patchVM{
		ID:             cell(f.ControlID),
		Title:          cell(f.Title),
		Where:          fileLink(d.opts.BlobURL, file, line),
		Object:         cell(f.Object.String()),
		StrategicMerge: fence("yaml", p.StrategicMerge),
		JSONPatch:      fence("json", p.JSONPatch),
		Note:           cell(p.Note),
		Left:           left,
	}
	if c != nil {
		vm.ID, vm.Title = cell(c.ID), cell(c.Title)
	}
	var cs []string
	for _, fd := range fs {
		if fd.Container != "" && !slices.Contains(cs, fd.Container) {
			cs = append(cs, fd.Container)
		}
	}
	for i, s := range cs {
		cs[i] = cell(s)
	}
	vm.Container = strings.Join(cs, ", ")
	if len(p.Kubectl) > 0 && kubectlSafe(f.Object, p.Kubectl) {
		vm.Kubectl = fence("sh", strings.Join(p.Kubectl, "\n"))
	}
	large := vm
	large.Where = cell(formatFileLine(file, line))
	return item{text: ex.exec("fallback.fix", vm), tooLarge: ex.exec("fallback.toolarge", large)}
}

func formatFileLine(file string, line int) string {
	if line > 0 {
		return file + ":" + itoa(line)
	}
	return file
}

func (d *prData) fallbackSection(ex *executor) *section {
	var groups []*group
	var cur *group
	var key string
	open := func(o finding.ObjectRef, file string, count int, left bool) {
		vm := map[string]any{"Object": cell(o.String()), "File": cell(file), "Count": count, "Left": left}
		cur = &group{open: ex.exec("fallback.open", vm), close: ex.exec("details.close", nil)}
		vm["Continued"] = true
		cur.reopen = ex.exec("fallback.open", vm)
		groups = append(groups, cur)
	}
	count := map[string]int{}
	for _, f := range d.fixes {
		count[objectKey(f.File, f.Findings[0].Object)]++
	}
	for _, f := range d.fixes {
		o := f.Findings[0].Object
		if k := objectKey(f.File, o); k != key {
			key = k
			open(o, f.File, count[k], false)
		}
		cur.items = append(cur.items, d.patchItem(ex, f.Control, f.Findings, f.File, f.Line, f.Patch, false))
	}
	// Patches of the findings left for review, per object.
	var left []Left
	for _, l := range d.left {
		if l.Patch != nil {
			left = append(left, l)
		}
	}
	slices.SortStableFunc(left, func(a, b Left) int {
		return cmp.Or(cmp.Compare(a.Finding.Position.File, b.Finding.Position.File), compareObjects(a.Finding.Object, b.Finding.Object))
	})
	countLeft := map[string]int{}
	for _, l := range left {
		countLeft[objectKey(l.Finding.Position.File, l.Finding.Object)]++
	}
	key = ""
	for _, l := range left {
		fd := l.Finding
		if k := objectKey(fd.Position.File, fd.Object); k != key {
			key = k
			open(fd.Object, fd.Position.File, countLeft[k], true)
		}
		cur.items = append(cur.items, d.patchItem(ex, l.Control, []finding.Finding{fd}, fd.Position.File, fd.Position.Line, *l.Patch, true))
	}
	if len(groups) == 0 {
		return nil
	}
	return newSection(ex, "the manual fallback", "Apply by hand", ex.exec("fallback.intro", nil), groups...)
}
