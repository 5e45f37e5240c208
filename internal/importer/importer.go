package importer

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/score"
)

// Format is a kind of report the importer reads.
type Format string

// Formats.
const (
	// FormatUnknown is returned with an error when nothing is recognised.
	FormatUnknown Format = ""
	// FormatPolicyReport: wgpolicyk8s.io PolicyReport and
	// ClusterPolicyReport (v1alpha2; v1alpha1 and v1beta1 are read the same
	// way), as Kyverno and the trivy-operator PolicyReport adapter write
	// them.
	FormatPolicyReport Format = "policyreport"
	// FormatOpenReports: openreports.io Report and ClusterReport, the
	// successor of the PolicyReport API (Kyverno 1.15+ with
	// --openreportsEnabled, kyverno apply --policy-report).
	FormatOpenReports Format = "openreports"
	// FormatKubescape: the output of kubescape scan --format json
	// (results[].controls[] per resourceID).
	FormatKubescape Format = "kubescape"
	// FormatTrivyOperator: aquasecurity.github.io ConfigAuditReport and
	// ClusterConfigAuditReport.
	FormatTrivyOperator Format = "trivy-operator"
	// FormatMixed: the input holds reports of more than one format (Parse
	// reads them all).
	FormatMixed Format = "mixed"
)

// ErrNotAReport is wrapped by Detect and Parse when no document of the
// input is a report the importer reads.
var ErrNotAReport = errors.New("not a report kmend can import (want a wgpolicyk8s.io PolicyReport or ClusterPolicyReport, an openreports.io Report or ClusterReport, an aquasecurity.github.io ConfigAuditReport, or kubescape JSON results)")

// Result is what Parse read from one input.
type Result struct {
	// Findings are the failing results mapped onto catalog controls: one
	// per (result, object, control), sorted by finding.Compare.
	Findings []finding.Finding
	// Unmapped are failing results whose ID maps to no control. Their
	// ControlID is EXT-<tool>-<id>, Fixability manual, and Title and
	// Message are the report's own.
	Unmapped []finding.Finding
	// Errors are the entries (and documents) that could not be read; the
	// others were read regardless.
	Errors []*EntryError
	// Owners holds, for an object of a finding, the owner references the
	// report gives for it (see Owner). A later stage walks them to the
	// object a fix belongs to, e.g. from a ReplicaSet to its Deployment.
	Owners map[finding.ObjectRef][]Owner
	// Checked records every (object, control) pair a report evaluated and
	// that maps onto a control: true when it failed. Passing results are
	// not findings, but they count in Score.
	Checked map[Pair]bool
}

// Pair is an object and a control.
type Pair struct {
	Object    finding.ObjectRef
	ControlID string
}

// Owner is an owner reference a report carries.
type Owner struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	UID        string `json:"uid,omitempty"`
	Controller bool   `json:"controller,omitempty"`
	// From is where the reference was read: "report" for the report's own
	// metadata.ownerReferences (trivy-operator and Kyverno make the audited
	// object own its report, so this usually names the object itself, with
	// its UID), "object" for the audited object's own
	// metadata.ownerReferences (Kubescape embeds the object; for a
	// ReplicaSet this names its Deployment).
	From string `json:"from"`
}

// Owner sources.
const (
	OwnerFromReport = "report"
	OwnerFromObject = "object"
)

// EntryError is an entry of a report, or a whole document, that could not
// be read.
type EntryError struct {
	// Name is the input's name, as given to Parse.
	Name string
	// Document is the 0-based index of the YAML document.
	Document int
	// Line is the 1-based line where the document starts in YAML input, 0
	// when unknown (JSON).
	Line int
	// Entry locates the entry in the document, e.g. items[2].results[5];
	// empty for the document as a whole.
	Entry string
	Err   error
}

func (e *EntryError) Error() string {
	var b strings.Builder
	b.WriteString(e.Name)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	fmt.Fprintf(&b, ": document %d", e.Document)
	if e.Entry != "" {
		b.WriteString(", " + e.Entry)
	}
	b.WriteString(": " + e.Err.Error())
	return b.String()
}

func (e *EntryError) Unwrap() error { return e.Err }

// Detect says which format data is in. A List or a multi-document input
// whose reports are of several formats is FormatMixed. Documents that are
// not reports are ignored as long as one is; when none is, the error wraps
// ErrNotAReport.
func Detect(data []byte) (Format, error) {
	docs, err := decodeDocs(data)
	if len(docs) == 0 {
		if err == nil {
			err = errors.New("empty input")
		}
		return FormatUnknown, err
	}
	seen := map[Format]bool{}
	for _, d := range docs {
		for _, it := range flatten(d.raw, "") {
			if f := classify(it.fields); f != FormatUnknown {
				seen[f] = true
			}
		}
	}
	switch len(seen) {
	case 0:
		if err != nil {
			return FormatUnknown, err
		}
		return FormatUnknown, ErrNotAReport
	case 1:
		for f := range seen {
			return f, nil
		}
	}
	return FormatMixed, nil
}

// Parse reads the reports in data (YAML or JSON: a single report, a List of
// reports, or several YAML documents) and maps their failing results onto
// cat. name names the input in errors. A malformed entry is recorded in
// Result.Errors with its location and the rest is read; Parse returns an
// error only when nothing in data is a report it can read.
func Parse(name string, data []byte, cat *catalog.Catalog) (*Result, error) {
	docs, derr := decodeDocs(data)
	return parseDocs(name, docs, derr, cat)
}

// parseDocs reads decoded documents; derr is the error that stopped
// decoding, if any.
func parseDocs(name string, docs []doc, derr error, cat *catalog.Catalog) (*Result, error) {
	b := newBuilder(cat)
	reports := 0
	for _, d := range docs {
		for _, it := range flatten(d.raw, "") {
			at := func(entry string, err error) {
				b.res.Errors = append(b.res.Errors, &EntryError{Name: name, Document: d.index, Line: d.line, Entry: finding.JoinPath(it.loc, entry), Err: err})
			}
			switch classify(it.fields) {
			case FormatPolicyReport, FormatOpenReports:
				reports++
				parsePolicyReport(b, it.raw, at)
			case FormatKubescape:
				reports++
				parseKubescape(b, it.raw, at)
			case FormatTrivyOperator:
				reports++
				parseTrivy(b, it.raw, at)
			default:
				at("", notReport(it))
			}
		}
	}
	if derr != nil {
		var de *docError
		if errors.As(derr, &de) {
			b.res.Errors = append(b.res.Errors, &EntryError{Name: name, Document: de.index, Line: de.line, Err: de.err})
		} else {
			b.res.Errors = append(b.res.Errors, &EntryError{Name: name, Err: derr})
		}
	}
	if reports == 0 {
		if derr != nil && len(docs) == 0 {
			return nil, fmt.Errorf("%s: %w", name, unwrapDoc(derr))
		}
		if len(docs) == 0 {
			return nil, fmt.Errorf("%s: empty input", name)
		}
		for _, e := range b.res.Errors {
			if errors.Is(e.Err, ErrNotAReport) {
				return nil, fmt.Errorf("%s: %w", name, e.Err) // names the kind found
			}
		}
		return nil, fmt.Errorf("%s: %w", name, ErrNotAReport)
	}
	b.finish()
	return b.res, nil
}

// Merge joins results (of several inputs) into one, dropping findings that
// are reported twice by the same tool with the same ID for the same object,
// container and path.
func Merge(rs ...*Result) *Result {
	b := newBuilder(nil)
	for _, r := range rs {
		if r == nil {
			continue
		}
		for _, f := range r.Findings {
			b.add(&b.res.Findings, b.seenFindings, f)
		}
		for _, f := range r.Unmapped {
			b.add(&b.res.Unmapped, b.seenUnmapped, f)
		}
		b.res.Errors = append(b.res.Errors, r.Errors...)
		for o, owners := range r.Owners {
			for _, ow := range owners {
				b.owner(o, ow)
			}
		}
		for p, failed := range r.Checked {
			b.check(p, failed)
		}
	}
	b.finish()
	return b.res
}

// Objects returns the distinct objects the result names (in findings,
// unmapped findings and checks), sorted. Two references to the same
// cluster, kind, namespace and name are one object, whether or not they
// carry an API version and a UID; the first one seen is returned.
func (r *Result) Objects() []finding.ObjectRef {
	type key struct{ cluster, kind, namespace, name string }
	set := map[key]finding.ObjectRef{}
	add := func(o finding.ObjectRef) {
		k := key{o.Cluster, o.Kind, o.Namespace, o.Name}
		if _, ok := set[k]; !ok {
			set[k] = o
		}
	}
	for _, f := range r.Findings {
		add(f.Object)
	}
	for _, f := range r.Unmapped {
		add(f.Object)
	}
	for _, p := range slices.SortedFunc(maps.Keys(r.Checked), comparePairs) {
		add(p.Object)
	}
	out := slices.Collect(maps.Values(set))
	slices.SortFunc(out, compareObjects)
	return out
}

func compareObjects(a, b finding.ObjectRef) int {
	return cmp.Or(cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.String(), b.String()),
		cmp.Compare(a.APIVersion, b.APIVersion), cmp.Compare(a.UID, b.UID))
}

func comparePairs(a, b Pair) int {
	return cmp.Or(compareObjects(a.Object, b.Object), cmp.Compare(a.ControlID, b.ControlID))
}

// Controls returns the catalog controls the findings map onto, sorted by
// ID; IDs the catalog does not know are left out.
func (r *Result) Controls(cat *catalog.Catalog) []*catalog.Control {
	ids := map[string]bool{}
	for _, f := range r.Findings {
		ids[f.ControlID] = true
	}
	var out []*catalog.Control
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		if c, ok := cat.Get(id); ok {
			out = append(out, c)
		}
	}
	return out
}

// Score rates the imported results like docs/score.md rates manifests: the
// share of severity-weighted (object, control) pairs that pass, counting
// only the pairs a report evaluated and that map onto a control of cat (the
// control's severity gives the weight). With no such pair it is 100.
func (r *Result) Score(cat *catalog.Catalog) float64 {
	var pass, all float64
	for p, failed := range r.Checked {
		c, ok := cat.Get(p.ControlID)
		if !ok {
			continue
		}
		w := score.Weight(c.Severity)
		all += w
		if !failed {
			pass += w
		}
	}
	if all == 0 {
		return 100
	}
	return math.Round(1000*pass/all) / 10
}

func notReport(it item) error {
	if it.err != nil {
		return it.err
	}
	av, kind := stringField(it.fields, "apiVersion"), stringField(it.fields, "kind")
	if av == "" && kind == "" {
		return ErrNotAReport
	}
	return fmt.Errorf("%s %s: %w", av, kind, ErrNotAReport)
}
