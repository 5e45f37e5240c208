package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/lazyre"
)

// kubescapeReport is the part of kubescape's JSON results (the v2 posture
// report of kubescape scan --format json) the importer reads.
type kubescapeReport struct {
	SummaryDetails struct {
		Controls   map[string]ksControlSummary `json:"controls"`
		Frameworks []struct {
			Controls map[string]ksControlSummary `json:"controls"`
		} `json:"frameworks"`
	} `json:"summaryDetails"`
	Resources []json.RawMessage `json:"resources"`
	Results   []json.RawMessage `json:"results"`
}

type ksControlSummary struct {
	Name        str      `json:"name"`
	Severity    str      `json:"severity"`
	ScoreFactor *float64 `json:"scoreFactor"`
	BaseScore   *float64 `json:"baseScore"`
}

type ksResource struct {
	ResourceID str             `json:"resourceID"`
	Object     json.RawMessage `json:"object"`
}

// ksObject is the part of an embedded object the importer reads; spec is
// kept to name containers by index.
type ksObject struct {
	APIVersion str        `json:"apiVersion"`
	Kind       str        `json:"kind"`
	Metadata   objectMeta `json:"metadata"`
	raw        map[string]any
}

type ksResult struct {
	ResourceID str               `json:"resourceID"`
	Controls   []json.RawMessage `json:"controls"`
}

type ksControl struct {
	ControlID   str      `json:"controlID"`
	Name        str      `json:"name"`
	Status      ksStatus `json:"status"`
	Severity    str      `json:"severity"`
	ScoreFactor *float64 `json:"scoreFactor"`
	BaseScore   *float64 `json:"baseScore"`
	Rules       []ksRule `json:"rules"`
}

// ksStatus is {"status": "failed", "info": …}, or a bare string in older
// output.
type ksStatus struct {
	Status str `json:"status"`
	Info   str `json:"info"`
}

func (s *ksStatus) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &s.Status)
	}
	type plain ksStatus
	return json.Unmarshal(b, (*plain)(s))
}

type ksRule struct {
	Name  str      `json:"name"`
	Paths []ksPath `json:"paths"`
}

type ksPath struct {
	FailedPath str `json:"failedPath"`
	ReviewPath str `json:"reviewPath"`
	DeletePath str `json:"deletePath"`
	FixPath    struct {
		Path  str `json:"path"`
		Value str `json:"value"`
	} `json:"fixPath"`
}

// path is the field the path entry is about: the failed, reviewed, deleted
// or fixed path, whichever is given.
func (p ksPath) path() string {
	for _, s := range []str{p.FailedPath, p.ReviewPath, p.DeletePath, p.FixPath.Path} {
		if v := s.String(); v != "" {
			return v
		}
	}
	return ""
}

func parseKubescape(b *builder, raw []byte, at func(entry string, err error)) {
	var r kubescapeReport
	if err := json.Unmarshal(raw, &r); err != nil {
		at("", entryError(err))
		return
	}
	summaries := map[string]ksControlSummary{}
	for _, fw := range r.SummaryDetails.Frameworks {
		for id, c := range fw.Controls {
			summaries[id] = c
		}
	}
	for id, c := range r.SummaryDetails.Controls {
		summaries[id] = c
	}
	objects := map[string]*ksObject{}
	for i, rawRes := range r.Resources {
		var res ksResource
		if err := json.Unmarshal(rawRes, &res); err != nil {
			at(fmt.Sprintf("resources[%d]", i), entryError(err))
			continue
		}
		var obj ksObject
		if len(res.Object) == 0 || res.Object[0] != '{' {
			continue // no object embedded
		}
		if err := json.Unmarshal(res.Object, &obj); err != nil {
			at(fmt.Sprintf("resources[%d].object", i), entryError(err))
			continue
		}
		_ = json.Unmarshal(res.Object, &obj.raw)
		objects[res.ResourceID.String()] = &obj
	}

	for i, rawRes := range r.Results {
		entry := fmt.Sprintf("results[%d]", i)
		var res ksResult
		if err := json.Unmarshal(rawRes, &res); err != nil {
			at(entry, entryError(err))
			continue
		}
		obj := objects[res.ResourceID.String()]
		ref, err := kubescapeObject(res.ResourceID.String(), obj)
		if err != nil {
			at(entry, err)
			continue
		}
		if obj != nil {
			for _, o := range obj.Metadata.OwnerReferences {
				b.owner(ref, o.owner(OwnerFromObject))
			}
		}
		for j, rawCtl := range res.Controls {
			centry := fmt.Sprintf("%s.controls[%d]", entry, j)
			var c ksControl
			if err := json.Unmarshal(rawCtl, &c); err != nil {
				at(centry, entryError(err))
				continue
			}
			id := c.ControlID.String()
			if id == "" {
				at(centry, errors.New("no controlID"))
				continue
			}
			var failed bool
			switch strings.ToLower(c.Status.Status.String()) {
			case "failed":
				failed = true
			case "passed":
			default:
				continue // skipped, irrelevant, error: neither passed nor failed
			}
			sum := summaries[id]
			name := c.Name.String()
			if name == "" {
				name = sum.Name.String()
			}
			o := observation{
				origin:   toolKubescape,
				tool:     toolKubescape,
				groups:   [][]cand{{{toolKubescape, id}}},
				id:       id,
				title:    name,
				severity: kubescapeSeverity(c, sum),
				object:   ref,
				failed:   failed,
			}
			for _, t := range kubescapeTargets(c, obj) {
				o.container, o.containerType, o.path = t.container, t.containerType, t.path
				o.message = kubescapeMessage(name, t.paths, c.Status.Info.String())
				b.observe(o)
			}
		}
	}
}

// kubescapeObject names the object of a result: from the object kubescape
// embedded in resources when there is one, else from the resource ID.
func kubescapeObject(id string, obj *ksObject) (finding.ObjectRef, error) {
	if obj != nil && obj.Kind.String() != "" && obj.Metadata.Name.String() != "" {
		return finding.ObjectRef{APIVersion: obj.APIVersion.String(), Kind: obj.Kind.String(),
			Namespace: obj.Metadata.Namespace.String(), Name: obj.Metadata.Name.String(), UID: obj.Metadata.UID.String()}, nil
	}
	return parseResourceID(id)
}

// parseResourceID reads a kubescape resource ID:
// <group>/<version>/<namespace>/<kind>/<name> ("apps/v1/shop/Deployment/web",
// "/v1//Namespace/shop"), or the older <apiVersion>/<namespace>/<kind>/<name>
// ("v1/default/Pod/x"), optionally behind path=<hash>/api= when the
// resource came from a file. An ID that relates several objects (RBAC
// controls: subject, role and binding joined by /path=) names the first.
func parseResourceID(id string) (finding.ObjectRef, error) {
	s := id
	if i := strings.Index(s, "/path="); i > 0 {
		s = s[:i]
	}
	if strings.HasPrefix(s, "path=") {
		if i := strings.Index(s, "/api="); i >= 0 {
			s = s[i+len("/api="):]
		}
	}
	s = strings.TrimPrefix(s, "api=")
	parts := strings.Split(s, "/")
	var ref finding.ObjectRef
	switch len(parts) {
	case 5:
		ref = finding.ObjectRef{APIVersion: parts[1], Namespace: parts[2], Kind: parts[3], Name: parts[4]}
		if parts[0] != "" {
			ref.APIVersion = parts[0] + "/" + parts[1]
		}
	case 4:
		ref = finding.ObjectRef{APIVersion: parts[0], Namespace: parts[1], Kind: parts[2], Name: parts[3]}
	default:
		return ref, fmt.Errorf("cannot read resourceID %q (want group/version/namespace/kind/name)", id)
	}
	if ref.Kind == "" || ref.Name == "" {
		return ref, fmt.Errorf("cannot read resourceID %q: no kind or name", id)
	}
	return ref, nil
}

// kubescapeSeverity is the control's severity if the output gives one,
// else that of its score factor, as kubescape ranks it: 9 and above
// critical, 7 high, 4 medium, 1 low.
func kubescapeSeverity(c ksControl, sum ksControlSummary) finding.Severity {
	for _, s := range []str{c.Severity, sum.Severity} {
		if v := parseSeverity(s.String()); v != finding.SeverityUnknown {
			return v
		}
	}
	for _, f := range []*float64{c.ScoreFactor, c.BaseScore, sum.ScoreFactor, sum.BaseScore} {
		if f == nil {
			continue
		}
		switch {
		case *f >= 9:
			return finding.SeverityCritical
		case *f >= 7:
			return finding.SeverityHigh
		case *f >= 4:
			return finding.SeverityMedium
		case *f >= 1:
			return finding.SeverityLow
		}
	}
	return finding.SeverityUnknown
}

// target is a container (or the whole object) a control failed on, with
// the paths kubescape gave for it.
type target struct {
	container, containerType, path string
	paths                          []string
}

var containerPathRE = lazyre.New(`^(.*?)\.?(containers|initContainers|ephemeralContainers)\[(\d+)\]`)

// kubescapeTargets groups a control's paths by container: one target per
// container the paths name (its name read from the embedded object), and
// one for the object for paths outside any container, or when there are no
// paths. A container whose name the report does not give is not guessed:
// its paths go to the object.
func kubescapeTargets(c ksControl, obj *ksObject) []target {
	var out []target
	index := map[string]int{}
	for _, r := range c.Rules {
		for _, p := range r.Paths {
			path := p.path()
			if path == "" {
				continue
			}
			var t target
			if m := containerPathRE.FindStringSubmatch(path); m != nil && obj != nil {
				n, _ := strconv.Atoi(m[3])
				if name := containerName(obj.raw, m[1], m[2], n); name != "" {
					t.container, t.containerType = name, m[2]
				}
			}
			key := t.containerType + "/" + t.container
			i, ok := index[key]
			if !ok {
				t.path = path
				i = len(out)
				index[key] = i
				out = append(out, t)
			}
			out[i].paths = append(out[i].paths, path)
		}
	}
	if len(out) == 0 {
		out = append(out, target{})
	}
	return out
}

// containerName returns the name of containers[n] (or initContainers…)
// under the dotted path prefix of obj, "" when there is none.
func containerName(obj map[string]any, prefix, list string, n int) string {
	var cur any = obj
	if prefix != "" {
		for _, k := range strings.Split(prefix, ".") {
			m, ok := cur.(map[string]any)
			if !ok {
				return ""
			}
			cur = m[k]
		}
	}
	m, ok := cur.(map[string]any)
	if !ok {
		return ""
	}
	items, ok := m[list].([]any)
	if !ok || n >= len(items) {
		return ""
	}
	c, _ := items[n].(map[string]any)
	name, _ := c["name"].(string)
	return name
}

// kubescapeMessage is the control's name, the paths it failed at and the
// status information kubescape gives.
func kubescapeMessage(name string, paths []string, info string) string {
	msg := name
	if len(paths) > 0 {
		msg += " (failed at " + strings.Join(paths, ", ") + ")"
	}
	if info != "" {
		msg += ": " + info
	}
	return msg
}
