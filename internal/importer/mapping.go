package importer

import (
	"cmp"
	"slices"
	"strings"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/lazyre"
)

// Catalog tool names, as catalog.ForeignIDs.Each spells them.
const (
	toolKubescape = "kubescape"
	toolTrivy     = "trivy"
	toolKyverno   = "kyverno"
	toolPolaris   = "polaris"
	toolPSS       = "pss"
)

// ExtPrefix starts the ControlID of a result that maps onto no control:
// EXT-<tool>-<id>.
const ExtPrefix = "EXT-"

// unmappedSeverity is the severity of an unmapped result whose report gives
// none (the SARIF writer treats unknown as medium too).
const unmappedSeverity = finding.SeverityMedium

// cand is a foreign ID to look up under a catalog tool.
type cand struct{ tool, id string }

// observation is one result of a report for one object (and container).
type observation struct {
	// origin is Finding.Origin: the tool that reported the result.
	origin string
	// tool names unmapped results (EXT-<tool>-<id>); origin when empty.
	tool string
	// groups are the IDs to map, in order: the first group in which some
	// ID maps onto a control wins, and every control its IDs map onto is
	// reported.
	groups [][]cand
	// id is the report's ID for the result: the ForeignID of an unmapped
	// finding and the end of its EXT- control ID.
	id string
	// title and message are the report's own text.
	title, message string
	// severity is the report's; SeverityUnknown when it gives none.
	severity                       finding.Severity
	object                         finding.ObjectRef
	container, containerType, path string
	failed                         bool
}

type match struct {
	ctl       *catalog.Control
	foreignID string
}

// builder collects a Result, dropping duplicates.
type builder struct {
	cat          *catalog.Catalog
	res          *Result
	seenFindings map[string]int
	seenUnmapped map[string]int
}

func newBuilder(cat *catalog.Catalog) *builder {
	return &builder{
		cat:          cat,
		res:          &Result{Owners: map[finding.ObjectRef][]Owner{}, Checked: map[Pair]bool{}},
		seenFindings: map[string]int{},
		seenUnmapped: map[string]int{},
	}
}

// observe records one result: its (object, control) pairs, and a finding
// per control when it failed (an unmapped finding when no control matches).
func (b *builder) observe(o observation) {
	mapped := b.resolve(o.groups)
	for _, m := range mapped {
		b.check(Pair{Object: o.object, ControlID: m.ctl.ID}, o.failed)
	}
	if !o.failed {
		return
	}
	base := finding.Finding{
		Severity:      o.severity,
		Object:        o.object,
		Container:     o.container,
		ContainerType: o.containerType,
		Path:          o.path,
		Reason:        finding.ReasonReported,
		Message:       cmp.Or(o.message, o.title),
		Origin:        o.origin,
	}
	if len(mapped) == 0 {
		f := base
		f.ControlID = extID(cmp.Or(o.tool, o.origin), o.id)
		f.Title = cmp.Or(o.title, o.id)
		f.Fixability = finding.FixManual
		f.ForeignID = o.id
		if f.Severity == finding.SeverityUnknown {
			f.Severity = unmappedSeverity
		}
		b.add(&b.res.Unmapped, b.seenUnmapped, f)
		return
	}
	for _, m := range mapped {
		f := base
		f.ControlID = m.ctl.ID
		f.Title = m.ctl.Title
		f.Fixability = m.ctl.Fix.Fixability
		f.ForeignID = m.foreignID
		if f.Severity == finding.SeverityUnknown {
			f.Severity = m.ctl.Severity
		}
		b.add(&b.res.Findings, b.seenFindings, f)
	}
}

// resolve maps the first group of IDs that maps onto any control.
func (b *builder) resolve(groups [][]cand) []match {
	for _, g := range groups {
		var out []match
		seen := map[string]bool{}
		for _, c := range g {
			for _, ctl := range b.lookup(c.tool, c.id) {
				if !seen[ctl.ID] {
					seen[ctl.ID] = true
					out = append(out, match{ctl: ctl, foreignID: c.id})
				}
			}
		}
		if len(out) > 0 {
			slices.SortFunc(out, func(a, b match) int { return cmp.Compare(a.ctl.ID, b.ctl.ID) })
			return out
		}
	}
	return nil
}

// lookup maps a foreign ID through the catalog. Trivy IDs are also tried in
// their other spelling (KSV017 and AVD-KSV-0017), so that a catalog listing
// only one still matches.
func (b *builder) lookup(tool, id string) []*catalog.Control {
	id = strings.TrimSpace(id)
	if id == "" || b.cat == nil {
		return nil
	}
	if cs := b.cat.Lookup(tool, id); len(cs) > 0 {
		return cs
	}
	if tool == toolTrivy {
		if alt := trivyAlias(id); alt != "" {
			return b.cat.Lookup(tool, alt)
		}
	}
	return nil
}

var (
	avdIDRE   = lazyre.New(`(?i)^AVD-([A-Z]+)-0(\d{3})$`)
	trivyIDRE = lazyre.New(`(?i)^([A-Z]+)(\d{3})$`)
)

// trivyAlias returns the other spelling of a Trivy check ID: KSV017 for
// AVD-KSV-0017 and the reverse; "" when id is in neither form.
func trivyAlias(id string) string {
	if m := avdIDRE.FindStringSubmatch(id); m != nil {
		return strings.ToUpper(m[1]) + m[2]
	}
	if m := trivyIDRE.FindStringSubmatch(id); m != nil {
		return "AVD-" + strings.ToUpper(m[1]) + "-0" + m[2]
	}
	return ""
}

var extUnsafe = lazyre.New(`[^A-Za-z0-9._-]+`)

// extID is the control ID of an unmapped result: EXT-<tool>-<id>, with
// anything but letters, digits, dots, underscores and dashes turned into
// dashes.
func extID(tool, id string) string {
	clean := func(s string, max int) string {
		s = strings.Trim(extUnsafe.ReplaceAllString(s, "-"), "-")
		if len(s) > max {
			s = strings.TrimRight(s[:max], "-")
		}
		return s
	}
	return ExtPrefix + cmp.Or(clean(tool, 40), "unknown") + "-" + cmp.Or(clean(id, 80), "result")
}

// add appends f to list unless the same tool already reported the same ID
// for the same control, object, container and path; then the new message,
// when different, is added to the first and the higher severity kept.
func (b *builder) add(list *[]finding.Finding, seen map[string]int, f finding.Finding) {
	key := strings.Join([]string{f.ControlID, f.Object.Cluster, f.Object.APIVersion, f.Object.Kind, f.Object.Namespace,
		f.Object.Name, f.Object.UID, f.ContainerType, f.Container, f.Path, f.Origin, f.ForeignID}, "\x00")
	if i, ok := seen[key]; ok {
		prev := &(*list)[i]
		if f.Message != "" && !strings.Contains(prev.Message, f.Message) {
			prev.Message = strings.TrimSpace(prev.Message + "\n" + f.Message)
		}
		prev.Severity = max(prev.Severity, f.Severity)
		return
	}
	seen[key] = len(*list)
	*list = append(*list, f)
}

func (b *builder) owner(o finding.ObjectRef, ow Owner) {
	if slices.Contains(b.res.Owners[o], ow) {
		return
	}
	b.res.Owners[o] = append(b.res.Owners[o], ow)
}

func (b *builder) check(p Pair, failed bool) {
	b.res.Checked[p] = b.res.Checked[p] || failed
}

// finish sorts the findings.
func (b *builder) finish() {
	for _, fs := range []*[]finding.Finding{&b.res.Findings, &b.res.Unmapped} {
		slices.SortStableFunc(*fs, func(a, b finding.Finding) int {
			return cmp.Or(finding.Compare(a, b), cmp.Compare(a.ForeignID, b.ForeignID))
		})
	}
}

// parseSeverity reads a report's severity: critical, high, medium
// (moderate), low, info (informational, negligible), in any case; anything
// else (UNKNOWN, empty) is SeverityUnknown.
func parseSeverity(s string) finding.Severity {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical":
		return finding.SeverityCritical
	case "high":
		return finding.SeverityHigh
	case "medium", "moderate":
		return finding.SeverityMedium
	case "low":
		return finding.SeverityLow
	case "info", "informational", "negligible":
		return finding.SeverityInfo
	}
	return finding.SeverityUnknown
}

// ownerRef is a metadata.ownerReferences entry.
type ownerRef struct {
	APIVersion str   `json:"apiVersion"`
	Kind       str   `json:"kind"`
	Name       str   `json:"name"`
	UID        str   `json:"uid"`
	Controller *bool `json:"controller"`
}

func (r ownerRef) owner(from string) Owner {
	return Owner{APIVersion: r.APIVersion.String(), Kind: r.Kind.String(), Name: r.Name.String(), UID: r.UID.String(),
		Controller: r.Controller != nil && *r.Controller, From: from}
}

// objectMeta is the part of metadata the importer reads.
type objectMeta struct {
	Name            str        `json:"name"`
	Namespace       str        `json:"namespace"`
	UID             str        `json:"uid"`
	Labels          strMap     `json:"labels"`
	OwnerReferences []ownerRef `json:"ownerReferences"`
}

// objectRef is a corev1.ObjectReference.
type objectRef struct {
	APIVersion str `json:"apiVersion"`
	Kind       str `json:"kind"`
	Namespace  str `json:"namespace"`
	Name       str `json:"name"`
	UID        str `json:"uid"`
}

func (r objectRef) ref() finding.ObjectRef {
	return finding.ObjectRef{APIVersion: r.APIVersion.String(), Kind: r.Kind.String(), Namespace: r.Namespace.String(),
		Name: r.Name.String(), UID: r.UID.String()}
}
