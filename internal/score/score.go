package score

import (
	"cmp"
	"math"
	"slices"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/manifest"
)

// Weight is a severity's weight in the score and in risk.
func Weight(s finding.Severity) float64 {
	switch s {
	case finding.SeverityCritical:
		return 10
	case finding.SeverityHigh:
		return 6
	case finding.SeverityMedium:
		return 3
	case finding.SeverityLow:
		return 1
	case finding.SeverityInfo:
		return 0.5
	}
	return 0
}

// Group is the score of a set of objects.
type Group struct {
	Name string `json:"name"`
	// Score is 0–100: 100 × passing weight ÷ applicable weight.
	Score    float64 `json:"score"`
	Objects  int     `json:"objects"`
	Failed   int     `json:"failed"`   // failing (object, control) pairs
	Pairs    int     `json:"pairs"`    // applicable (object, control) pairs
	Findings int     `json:"findings"` // findings (one pair can have several)
	passW    float64
	allW     float64
}

// Ranked is a finding with its risk.
type Ranked struct {
	Finding  *finding.Finding `json:"finding"`
	Risk     float64          `json:"risk"`
	Exposure []string         `json:"exposure,omitempty"`
}

// Result is the score of a run.
type Result struct {
	Overall     Group    `json:"overall"`
	ByNamespace []Group  `json:"byNamespace"`
	ByApp       []Group  `json:"byApp"`
	Ranked      []Ranked `json:"ranked"`
}

// Compute scores objects given the controls evaluated and the results
// (suppressed results count neither as passing nor failing).
func Compute(objs []manifest.Object, controls []*catalog.Control, results []check.Result) Result {
	return compute(objs, controls, results, true)
}

// Overall is Compute without the risk order, for callers that only need
// the scores.
func Overall(objs []manifest.Object, controls []*catalog.Control, results []check.Result) Result {
	return compute(objs, controls, results, false)
}

func compute(objs []manifest.Object, controls []*catalog.Control, results []check.Result, rank bool) Result {
	type key struct {
		obj  finding.ObjectRef
		file string
		doc  int
	}
	failed := map[key]map[string]bool{}
	suppressed := map[key]map[string]bool{}
	for _, r := range results {
		k := key{r.Finding.Object, r.Finding.Position.File, r.Finding.Position.Document}
		m := failed
		if r.Finding.Suppression != nil {
			m = suppressed
		}
		if m[k] == nil {
			m[k] = map[string]bool{}
		}
		m[k][r.Control.ID] = true
	}
	overall := &Group{Name: "all"}
	ns := map[string]*Group{}
	apps := map[string]*Group{}
	var exposures map[finding.ObjectRef]exposure
	if rank {
		exposures = exposureOf(objs, results)
	}
	groupsOf := map[finding.ObjectRef][]*Group{}
	for _, o := range objs {
		k := key{o.Ref, o.Pos.File, o.Pos.Document}
		appl := check.Applicable(controls, o.Ref.Kind)
		if len(appl) == 0 {
			continue
		}
		groups := []*Group{overall, group(ns, namespaceOf(o)), group(apps, AppOf(o))}
		groupsOf[o.Ref] = groups
		for _, g := range groups {
			g.Objects++
		}
		for _, c := range appl {
			if suppressed[k][c.ID] && !failed[k][c.ID] {
				continue
			}
			w := Weight(c.Severity)
			for _, g := range groups {
				g.Pairs++
				g.allW += w
				if failed[k][c.ID] {
					g.Failed++
				} else {
					g.passW += w
				}
			}
		}
	}
	var ranked []Ranked
	if rank {
		ranked = make([]Ranked, 0, len(results))
	}
	for i := range results {
		r := &results[i]
		if r.Finding.Suppression != nil {
			continue
		}
		for _, g := range groupsOf[r.Finding.Object] {
			g.Findings++
		}
		if rank {
			ex := exposures[r.Finding.Object]
			ranked = append(ranked, Ranked{Finding: &r.Finding, Risk: round(Weight(r.Finding.Severity) * ex.factor()), Exposure: ex.reasons})
		}
	}
	slices.SortFunc(ranked, func(a, b Ranked) int {
		return cmp.Or(cmp.Compare(b.Risk, a.Risk), cmp.Compare(b.Finding.Severity, a.Finding.Severity),
			cmp.Compare(a.Finding.ControlID, b.Finding.ControlID), finding.Compare(*a.Finding, *b.Finding))
	})
	return Result{Overall: finish(overall), ByNamespace: sorted(ns), ByApp: sorted(apps), Ranked: ranked}
}

func group(m map[string]*Group, name string) *Group {
	if m[name] == nil {
		m[name] = &Group{Name: name}
	}
	return m[name]
}

func finish(g *Group) Group {
	g.Score = 100
	if g.allW > 0 {
		g.Score = round(100 * g.passW / g.allW)
	}
	return *g
}

func sorted(m map[string]*Group) []Group {
	out := make([]Group, 0, len(m))
	for _, g := range m {
		out = append(out, finish(g))
	}
	slices.SortFunc(out, func(a, b Group) int { return cmp.Or(cmp.Compare(a.Score, b.Score), cmp.Compare(a.Name, b.Name)) })
	return out
}

func round(f float64) float64 { return math.Round(f*10) / 10 }

func namespaceOf(o manifest.Object) string {
	if o.Ref.Namespace == "" {
		return "(unset)"
	}
	return o.Ref.Namespace
}

// AppOf names the app an object belongs to: the app.kubernetes.io/part-of,
// app.kubernetes.io/name or app label, else the object's name.
func AppOf(o manifest.Object) string {
	for _, l := range []string{"app.kubernetes.io/part-of", "app.kubernetes.io/name", "app"} {
		if n := check.Lookup(o.Node, "metadata", "labels", l); n != nil && n.YNode().Kind == yaml.ScalarNode && n.YNode().Value != "" {
			return n.YNode().Value
		}
	}
	return o.Ref.Name
}
