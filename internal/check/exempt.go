package check

import (
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/finding"
)

// ExemptPrefix is kmend's own exemption annotation prefix:
// exempt.kmend.dev/<control ID>: "<why>".
const ExemptPrefix = "exempt.kmend.dev/"

// exemptionSet holds the annotations of an object and of its pod template.
type exemptionSet map[string]string

// exemptions reads the annotations of the pod template, then of the
// object; nil when there are none.
func exemptions(obj, tmpl *yaml.Node) exemptionSet {
	var out exemptionSet
	for _, n := range [...]*yaml.Node{tmpl, obj} {
		a := lookupNode(n, "metadata", "annotations")
		if a == nil || a.Kind != yaml.MappingNode {
			continue
		}
		c := a.Content
		for i := 0; i+1 < len(c); i += 2 {
			if out == nil {
				out = exemptionSet{}
			}
			out[c[i].Value] = c[i+1].Value
		}
	}
	return out
}

func truthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "1", "enable", "enabled":
		return true
	}
	return false
}

// match returns the suppression that exempts the object from c, if any:
// kmend's own annotation, then the peers' ones for the control's foreign IDs
// (Polaris, Kubescape, Checkov, kube-score, kube-linter).
func (ex exemptionSet) match(c *catalog.Control) *finding.Suppression {
	if len(ex) == 0 {
		return nil
	}
	if v, ok := ex[ExemptPrefix+c.ID]; ok {
		return &finding.Suppression{Annotation: ExemptPrefix + c.ID, Justification: v}
	}
	if v, ok := ex["kubescape.io/ignore"]; ok && truthy(v) && len(c.ForeignIDs.Kubescape) > 0 {
		return &finding.Suppression{Annotation: "kubescape.io/ignore", Justification: v}
	}
	if v, ok := ex["polaris.fairwinds.com/exempt"]; ok && truthy(v) && len(c.ForeignIDs.Polaris) > 0 {
		return &finding.Suppression{Annotation: "polaris.fairwinds.com/exempt", Justification: v}
	}
	for _, id := range c.ForeignIDs.Polaris {
		k := "polaris.fairwinds.com/" + id + "-exempt"
		if v, ok := ex[k]; ok && truthy(v) {
			return &finding.Suppression{Annotation: k, Justification: v}
		}
	}
	for _, id := range c.ForeignIDs.KubeLinter {
		k := "ignore-check.kube-linter.io/" + id
		if v, ok := ex[k]; ok {
			return &finding.Suppression{Annotation: k, Justification: v}
		}
	}
	if v, ok := ex["kube-linter.io/ignore-all"]; ok && len(c.ForeignIDs.KubeLinter) > 0 {
		return &finding.Suppression{Annotation: "kube-linter.io/ignore-all", Justification: v}
	}
	if v, ok := ex["kube-score/ignore"]; ok {
		for _, t := range strings.Split(v, ",") {
			if in(c.ForeignIDs.KubeScore, strings.TrimSpace(t), false) {
				return &finding.Suppression{Annotation: "kube-score/ignore", Justification: v}
			}
		}
	}
	// Checkov: checkov.io/skipN: CKV_K8S_20=reason
	for k, v := range ex {
		if !strings.HasPrefix(k, "checkov.io/skip") {
			continue
		}
		id, why, _ := strings.Cut(v, "=")
		if in(c.ForeignIDs.Checkov, strings.TrimSpace(id), true) {
			return &finding.Suppression{Annotation: k, Justification: why}
		}
	}
	return nil
}

// deliberate returns the comment attached to a risky value (on the value or
// on its key), which marks it as set on purpose.
func deliberate(root, v *yaml.Node) string {
	if v == nil {
		return ""
	}
	if c := firstComment(v.LineComment, v.HeadComment); c != "" {
		return c
	}
	if key := keyOf(root, v); key != nil {
		return firstComment(key.LineComment, key.HeadComment)
	}
	return ""
}

func firstComment(cs ...string) string {
	for _, c := range cs {
		c = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(c), "#"))
		if c != "" {
			if i := strings.IndexByte(c, '\n'); i >= 0 {
				c = c[:i]
			}
			return c
		}
	}
	return ""
}

// keyOf finds the mapping key whose value is v.
func keyOf(n, v *yaml.Node) *yaml.Node {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			if k := keyOf(c, v); k != nil {
				return k
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i+1] == v {
				return n.Content[i]
			}
			if k := keyOf(n.Content[i+1], v); k != nil {
				return k
			}
		}
	}
	return nil
}
