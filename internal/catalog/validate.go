package catalog

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/lazyre"
)

var (
	idRE   = lazyre.New(`^[A-Z][A-Z0-9]*-[A-Z0-9][A-Z0-9-]*$`)
	nameRE = lazyre.New(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	// WorkloadKinds are the kinds whose pod templates kmend checks.
	WorkloadKinds = []string{"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob"}
	// ContainerTypes are the pod spec's container lists.
	ContainerTypes = []string{"containers", "initContainers", "ephemeralContainers"}
)

type validator struct {
	file string
	data []byte
	root *yaml.Node // parsed for line numbers only when there is an error
	errs []error
}

func (v *validator) errorf(keys []string, format string, args ...any) {
	if v.root == nil {
		v.root = &yaml.Node{}
		_ = yaml.Unmarshal(v.data, v.root) // it decoded already: it parses
	}
	v.errs = append(v.errs, &Error{File: v.file, Line: lineOf(v.root, keys...), Msg: fmt.Sprintf(format, args...)})
}

func k(keys ...string) []string { return keys }

func (v *validator) control(c *Control) {
	if c.APIVersion != APIVersion {
		v.errorf(k("apiVersion"), "apiVersion must be %s, got %q", APIVersion, c.APIVersion)
	}
	if c.Kind != Kind {
		v.errorf(k("kind"), "kind must be %s, got %q", Kind, c.Kind)
	}
	if !idRE.MatchString(c.ID) {
		v.errorf(k("id"), "id %q must look like KM-001 (upper-case prefix, dash, upper-case letters and digits)", c.ID)
	}
	if !nameRE.MatchString(c.Name) {
		v.errorf(k("name"), "name %q must be lower-case letters, digits and dashes", c.Name)
	}
	for key, val := range map[string]string{"title": c.Title, "rationale": c.Rationale, "category": c.Category} {
		if strings.TrimSpace(val) == "" {
			v.errorf(k(key), "%s is required", key)
		}
	}
	if sev, err := finding.ParseSeverity(c.SeverityName); err != nil {
		v.errorf(k("severity"), "%v", err)
	} else {
		c.Severity = sev
	}
	if c.PSS != "" && c.PSS != "baseline" && c.PSS != "restricted" {
		v.errorf(k("pss"), "pss must be baseline or restricted, got %q", c.PSS)
	}
	if len(c.References) == 0 {
		v.errorf(k("references"), "at least one reference is required")
	}
	for _, kind := range c.Match.Kinds {
		if !contains(WorkloadKinds, kind) {
			v.errorf(k("match", "kinds"), "unknown kind %q (want one of %s)", kind, strings.Join(WorkloadKinds, ", "))
		}
	}
	v.check(c)
	v.why(c)
	v.fix(c)
}

func (v *validator) check(c *Control) {
	ch := c.Check
	switch ch.Level {
	case LevelContainer, LevelPod, LevelObject:
	default:
		v.errorf(k("check", "level"), "check.level must be container, pod or object, got %q", ch.Level)
	}
	for _, t := range ch.ContainerTypes {
		if !contains(ContainerTypes, t) {
			v.errorf(k("check", "containerTypes"), "unknown container type %q", t)
		}
	}
	if len(ch.ContainerTypes) > 0 && ch.Level != LevelContainer {
		v.errorf(k("check", "containerTypes"), "containerTypes only applies to container-level checks")
	}
	if _, err := ParseField(ch.Field); err != nil {
		v.errorf(k("check", "field"), "%v", err)
	}
	if ch.PodField != "" {
		if ch.Level != LevelContainer {
			v.errorf(k("check", "podField"), "podField only applies to container-level checks")
		}
		if _, err := ParseField(ch.PodField); err != nil {
			v.errorf(k("check", "podField"), "%v", err)
		}
	}
	switch ch.Unset {
	case "", "pass", "fail":
	default:
		v.errorf(k("check", "unset"), "check.unset must be pass or fail, got %q", ch.Unset)
	}
	if ch.Risky == nil && ch.Safe == nil && ch.Unset != "fail" {
		v.errorf(k("check"), "the check can never fail: give risky, safe or unset: fail")
	}
	if ch.Risky != nil {
		v.matcher(k("check", "risky"), ch.Risky)
	}
	if ch.Safe != nil {
		v.matcher(k("check", "safe"), ch.Safe)
	}
	if ch.Where != nil {
		if _, err := ParseField(ch.Where.Field); err != nil {
			v.errorf(k("check", "where", "field"), "%v", err)
		}
		v.matcher(k("check", "where"), &ch.Where.Matcher)
		if !strings.Contains(ch.Field, "[]") {
			v.errorf(k("check", "where"), "where needs a field that iterates a list with []")
		}
	}
}

func (v *validator) matcher(keys []string, m *Matcher) {
	n := 0
	if m.Equals != nil {
		n++
	}
	for _, set := range [][]string{m.In, m.NotIn, m.ContainsAny, m.NotSubsetOf, m.ImageTagIn} {
		if len(set) > 0 {
			n++
		}
	}
	for _, b := range []bool{m.Regex != "", m.Present != nil, m.LessThan != nil, m.GreaterThan != nil, m.Contains != "", m.NoDigest} {
		if b {
			n++
		}
	}
	if n == 0 {
		v.errorf(keys, "matcher has no condition")
	}
	if m.Regex != "" {
		if _, err := regexp.Compile(m.Regex); err != nil {
			v.errorf(append(keys, "regex"), "bad regex: %v", err)
		}
	}
}

func (v *validator) why(c *Control) {
	data := sampleData(c)
	for _, w := range []struct{ key, text string }{{"unset", c.Why.Unset}, {"risky", c.Why.Risky}, {"inherited", c.Why.Inherited}} {
		if w.text == "" {
			continue
		}
		if _, err := Render(w.key, w.text, data); err != nil {
			v.errorf(k("why", w.key), "template: %v", err)
		}
	}
	if c.Check.Unset == "fail" && c.Why.Unset == "" {
		v.errorf(k("why"), "why.unset is required when check.unset is fail")
	}
	if (c.Check.Risky != nil || c.Check.Safe != nil) && c.Why.Risky == "" {
		v.errorf(k("why"), "why.risky is required when the check has risky or safe values")
	}
	if c.Check.PodField != "" && c.Why.Inherited == "" {
		v.errorf(k("why"), "why.inherited is required when the check has a podField")
	}
}

func (v *validator) fix(c *Control) {
	f := c.Fix
	if !f.Fixability.Valid() {
		v.errorf(k("fix", "fixability"), "fix.fixability must be auto, review or manual, got %q", f.Fixability)
	}
	switch f.Level {
	case "", LevelContainer, LevelPod, LevelObject:
	default:
		v.errorf(k("fix", "level"), "fix.level must be container, pod or object, got %q", f.Level)
	}
	seen := map[string]bool{}
	for _, p := range f.Params {
		if p.Name == "" || seen[p.Name] {
			v.errorf(k("fix", "params"), "parameter names must be unique and non-empty (%q)", p.Name)
		}
		seen[p.Name] = true
	}
	if f.Fixability == finding.FixManual && f.StrategicMerge == "" {
		return // a manual control may only explain
	}
	if f.StrategicMerge == "" || f.JSONPatch == "" {
		v.errorf(k("fix"), "fix.strategicMerge and fix.jsonPatch are required for %s fixes", f.Fixability)
		return
	}
	data := sampleData(c)
	v.template(k("fix", "strategicMerge"), f.StrategicMerge, f.JSONPatch, data)
	if f.Pod != nil {
		v.template(k("fix", "pod"), f.Pod.StrategicMerge, f.Pod.JSONPatch, data)
		if c.Check.Level != LevelContainer {
			v.errorf(k("fix", "pod"), "fix.pod only applies to container-level checks")
		}
	}
}

// template checks that a pair of fix templates render, with the defaults,
// into a YAML mapping and a list of RFC 6902 operations.
func (v *validator) template(keys []string, smp, jp string, data TemplateData) {
	out, err := Render("strategicMerge", smp, data)
	if err != nil {
		v.errorf(keys, "strategicMerge template: %v", err)
	} else {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(out), &m); err != nil || m == nil {
			v.errorf(keys, "strategicMerge must render to a YAML mapping: %v", err)
		}
	}
	out, err = Render("jsonPatch", jp, data)
	if err != nil {
		v.errorf(keys, "jsonPatch template: %v", err)
		return
	}
	if _, err := ParseOps([]byte(out)); err != nil {
		v.errorf(keys, "jsonPatch: %v", err)
	}
}

// Op is one RFC 6902 operation.
type Op struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	From  string `json:"from,omitempty"`
	Value any    `json:"value,omitempty"`
}

// MarshalJSON keeps "value": null for add/replace/test, which omitempty
// would drop.
func (o Op) MarshalJSON() ([]byte, error) {
	m := map[string]any{"op": o.Op, "path": o.Path}
	if o.From != "" {
		m["from"] = o.From
	}
	if o.Op == "add" || o.Op == "replace" || o.Op == "test" {
		m["value"] = o.Value
	}
	return json.Marshal(m)
}

// ParseOps reads RFC 6902 operations written as YAML or JSON.
func ParseOps(data []byte) ([]Op, error) {
	var raw []map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("no operations")
	}
	var ops []Op
	for i, r := range raw {
		o := Op{}
		o.Op, _ = r["op"].(string)
		o.Path, _ = r["path"].(string)
		o.From, _ = r["from"].(string)
		o.Value = r["value"]
		switch o.Op {
		case "add", "replace", "test":
			if _, ok := r["value"]; !ok {
				return nil, fmt.Errorf("operation %d (%s) needs a value", i, o.Op)
			}
		case "remove":
		case "move", "copy":
			if !strings.HasPrefix(o.From, "/") {
				return nil, fmt.Errorf("operation %d (%s) needs from", i, o.Op)
			}
		default:
			return nil, fmt.Errorf("operation %d: unknown op %q", i, o.Op)
		}
		if !strings.HasPrefix(o.Path, "/") {
			return nil, fmt.Errorf("operation %d: path %q must start with /", i, o.Path)
		}
		ops = append(ops, o)
	}
	return ops, nil
}

func sampleData(c *Control) TemplateData {
	params, _ := c.Defaults(nil)
	return TemplateData{Params: params, Observed: "x", Value: []any{}, Keep: []any{}, Container: "app", Field: c.Check.Field, Pointer: "/x", Reason: "risky"}
}

func contains(set []string, s string) bool {
	for _, x := range set {
		if x == s {
			return true
		}
	}
	return false
}
