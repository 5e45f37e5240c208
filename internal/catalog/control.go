package catalog

import (
	"github.com/kmend/kmend/internal/finding"
)

// APIVersion and Kind head every control file.
const (
	APIVersion = "kmend.dev/v1alpha1"
	Kind       = "Control"
)

// Levels a check or a fix applies at.
const (
	// LevelContainer: fields are relative to each container (containers,
	// initContainers, ephemeralContainers).
	LevelContainer = "container"
	// LevelPod: fields are relative to the pod template (metadata + spec);
	// for a Pod it is the Pod itself.
	LevelPod = "pod"
	// LevelObject: fields are relative to the object.
	LevelObject = "object"
)

// Control is one entry of the remediation catalog.
type Control struct {
	APIVersion string           `yaml:"apiVersion" json:"apiVersion"`
	Kind       string           `yaml:"kind" json:"kind"`
	ID         string           `yaml:"id" json:"id"`
	Name       string           `yaml:"name" json:"name"`
	Title      string           `yaml:"title" json:"title"`
	Severity   finding.Severity `yaml:"-" json:"severity"`
	// SeverityName is the severity as written; validation parses it.
	SeverityName string `yaml:"severity" json:"-"`
	Category     string `yaml:"category" json:"category"`
	// PSS is the Pod Security Standards profile that requires this control
	// (baseline or restricted), if any.
	PSS        string     `yaml:"pss,omitempty" json:"pss,omitempty"`
	Rationale  string     `yaml:"rationale" json:"rationale"`
	References []string   `yaml:"references" json:"references"`
	ForeignIDs ForeignIDs `yaml:"foreignIDs" json:"foreignIDs"`
	Match      Match      `yaml:"match,omitempty" json:"match,omitempty"`
	Check      Check      `yaml:"check" json:"check"`
	Why        Why        `yaml:"why" json:"why"`
	Fix        Fix        `yaml:"fix" json:"fix"`
	Caveats    []string   `yaml:"caveats,omitempty" json:"caveats,omitempty"`

	// Source is where the control was loaded from ("patches/KM-001-.../control.yaml"
	// for embedded ones); Dir is its directory, holding the fixtures.
	Source string `yaml:"-" json:"-"`
	Dir    string `yaml:"-" json:"-"`
	// Builtin is true for the embedded catalog.
	Builtin bool `yaml:"-" json:"-"`
}

// ForeignIDs are other tools' names for the same control, so their findings
// map onto it.
type ForeignIDs struct {
	Kubescape  []string `yaml:"kubescape,omitempty" json:"kubescape,omitempty"`
	Polaris    []string `yaml:"polaris,omitempty" json:"polaris,omitempty"`
	KubeScore  []string `yaml:"kubeScore,omitempty" json:"kubeScore,omitempty"`
	Trivy      []string `yaml:"trivy,omitempty" json:"trivy,omitempty"`
	Kyverno    []string `yaml:"kyverno,omitempty" json:"kyverno,omitempty"`
	Checkov    []string `yaml:"checkov,omitempty" json:"checkov,omitempty"`
	KubeLinter []string `yaml:"kubeLinter,omitempty" json:"kubeLinter,omitempty"`
	PSS        []string `yaml:"pss,omitempty" json:"pss,omitempty"`
}

// Each calls fn for every (tool, id) pair.
func (f ForeignIDs) Each(fn func(tool, id string)) {
	for _, p := range []struct {
		tool string
		ids  []string
	}{
		{"kubescape", f.Kubescape}, {"polaris", f.Polaris}, {"kube-score", f.KubeScore},
		{"trivy", f.Trivy}, {"kyverno", f.Kyverno}, {"checkov", f.Checkov}, {"kube-linter", f.KubeLinter}, {"pss", f.PSS},
	} {
		for _, id := range p.ids {
			fn(p.tool, id)
		}
	}
}

// Match selects the objects a control applies to.
type Match struct {
	// Kinds limits the control to these kinds; empty means every workload
	// kind (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet,
	// ReplicationController, Job, CronJob).
	Kinds []string `yaml:"kinds,omitempty" json:"kinds,omitempty"`
}

// Check says how to evaluate a control.
type Check struct {
	Level string `yaml:"level" json:"level"`
	// ContainerTypes limits container-level checks; empty means all three.
	ContainerTypes []string `yaml:"containerTypes,omitempty" json:"containerTypes,omitempty"`
	// Field is the path of the value checked, relative to the level. Keys
	// are separated by dots; ["a.b/c"] quotes a key with dots; a trailing []
	// on a key iterates a list's elements; {container} stands for the
	// container's name.
	Field string `yaml:"field" json:"field"`
	// PodField, for container-level checks, is the pod-template path whose
	// value applies when the container leaves Field unset.
	PodField string `yaml:"podField,omitempty" json:"podField,omitempty"`
	// Where filters the elements iterated by [] in Field.
	Where *Where `yaml:"where,omitempty" json:"where,omitempty"`
	// Unset says whether an absent value fails (a risky default applies) or
	// passes. Default: pass.
	Unset string `yaml:"unset,omitempty" json:"unset,omitempty"`
	// Risky matches risky values; Safe matches safe ones. A value fails when
	// Risky matches it or when Safe is given and does not match it.
	Risky *Matcher `yaml:"risky,omitempty" json:"risky,omitempty"`
	Safe  *Matcher `yaml:"safe,omitempty" json:"safe,omitempty"`
	// Sensitive marks values that must never be shown (a literal
	// password): findings report them as "(redacted)".
	Sensitive bool `yaml:"sensitive,omitempty" json:"sensitive,omitempty"`
}

// Where filters list elements by one of their fields.
type Where struct {
	Field   string `yaml:"field" json:"field"`
	Matcher `yaml:",inline"`
}

// Matcher tests a value. Every condition that is set must hold.
type Matcher struct {
	Equals      *Scalar  `yaml:"equals,omitempty" json:"equals,omitempty"`
	In          []string `yaml:"in,omitempty" json:"in,omitempty"`
	NotIn       []string `yaml:"notIn,omitempty" json:"notIn,omitempty"`
	Regex       string   `yaml:"regex,omitempty" json:"regex,omitempty"`
	Present     *bool    `yaml:"present,omitempty" json:"present,omitempty"`
	LessThan    *float64 `yaml:"lessThan,omitempty" json:"lessThan,omitempty"`
	GreaterThan *float64 `yaml:"greaterThan,omitempty" json:"greaterThan,omitempty"`
	// Contains: the value is a list that contains this item.
	Contains string `yaml:"contains,omitempty" json:"contains,omitempty"`
	// ContainsAny: the value is a list that contains one of these items.
	ContainsAny []string `yaml:"containsAny,omitempty" json:"containsAny,omitempty"`
	// NotSubsetOf: the value is a list with an item outside this set.
	NotSubsetOf []string `yaml:"notSubsetOf,omitempty" json:"notSubsetOf,omitempty"`
	// IgnoreCase makes string comparisons case-insensitive.
	IgnoreCase bool `yaml:"ignoreCase,omitempty" json:"ignoreCase,omitempty"`
	// ImageTagIn: the value is an image reference whose tag is one of these
	// ("" means no tag and no digest).
	ImageTagIn []string `yaml:"imageTagIn,omitempty" json:"imageTagIn,omitempty"`
	// NoDigest: the value is an image reference without @sha256:… digest.
	NoDigest bool `yaml:"noDigest,omitempty" json:"noDigest,omitempty"`
}

// Scalar is a YAML scalar kept as its canonical text (true, 0, "latest").
type Scalar struct{ Value string }

// Why holds a text per reason; each is a Go template over .Observed,
// .Container, .Field and .Params.
type Why struct {
	Unset     string `yaml:"unset,omitempty" json:"unset,omitempty"`
	Risky     string `yaml:"risky,omitempty" json:"risky,omitempty"`
	Inherited string `yaml:"inherited,omitempty" json:"inherited,omitempty"`
}

// Fix says how to remediate.
type Fix struct {
	Fixability finding.Fixability `yaml:"fixability" json:"fixability"`
	Params     []Param            `yaml:"params,omitempty" json:"params,omitempty"`
	// Level the templates apply at; defaults to the check's level.
	Level string `yaml:"level,omitempty" json:"level,omitempty"`
	// StrategicMerge is a Go template of a strategic-merge patch relative
	// to Level; JSONPatch is a Go template of RFC 6902 operations relative to
	// Level.
	StrategicMerge string `yaml:"strategicMerge,omitempty" json:"strategicMerge,omitempty"`
	JSONPatch      string `yaml:"jsonPatch,omitempty" json:"jsonPatch,omitempty"`
	// Pod, for container-level controls, is the fix applied to the pod
	// template instead when the reason is unset or inherited: setting the
	// pod-level default fixes every container at once.
	Pod *Template `yaml:"pod,omitempty" json:"pod,omitempty"`
}

// Template is a pair of patch templates.
type Template struct {
	StrategicMerge string `yaml:"strategicMerge" json:"strategicMerge"`
	JSONPatch      string `yaml:"jsonPatch" json:"jsonPatch"`
}

// Param is a value a fix template uses, with its default.
type Param struct {
	Name        string `yaml:"name" json:"name"`
	Default     string `yaml:"default" json:"default"`
	Description string `yaml:"description" json:"description"`
}
