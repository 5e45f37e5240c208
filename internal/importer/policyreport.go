package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/kmend/kmend/internal/finding"
)

// policyReport is a wgpolicyk8s.io PolicyReport or ClusterPolicyReport, or
// an openreports.io Report or ClusterReport: the same shape, openreports
// adding a report-level source.
type policyReport struct {
	APIVersion str               `json:"apiVersion"`
	Kind       str               `json:"kind"`
	Metadata   objectMeta        `json:"metadata"`
	Source     str               `json:"source"`
	Scope      *objectRef        `json:"scope"`
	Results    []json.RawMessage `json:"results"`
}

// policyResult is one entry of results.
type policyResult struct {
	Source    str         `json:"source"`
	Policy    str         `json:"policy"`
	Rule      str         `json:"rule"`
	Category  str         `json:"category"`
	Severity  str         `json:"severity"`
	Result    str         `json:"result"`
	Status    str         `json:"status"` // wgpolicyk8s.io/v1alpha1 spelled result "status"
	Message   str         `json:"message"`
	Resources []objectRef `json:"resources"`
	// Properties: Kyverno's validate.podSecurity rules list the failed Pod
	// Security Standards checks in "controls" (comma-separated check IDs).
	Properties strMap `json:"properties"`
}

func parsePolicyReport(b *builder, raw []byte, at func(entry string, err error)) {
	var r policyReport
	if err := json.Unmarshal(raw, &r); err != nil {
		at("", entryError(err))
		return
	}
	// The report's own object, for results that name none.
	self := finding.ObjectRef{APIVersion: r.APIVersion.String(), Kind: r.Kind.String(), Namespace: r.Metadata.Namespace.String(), Name: r.Metadata.Name.String()}
	var owners []Owner
	for _, o := range r.Metadata.OwnerReferences {
		owners = append(owners, o.owner(OwnerFromReport))
	}
	for i, rawRes := range r.Results {
		entry := fmt.Sprintf("results[%d]", i)
		var res policyResult
		if err := json.Unmarshal(rawRes, &res); err != nil {
			at(entry, entryError(err))
			continue
		}
		failed, ok, err := policyOutcome(res)
		if err != nil {
			at(entry, err)
			continue
		}
		if !ok {
			continue // skip: neither passed nor failed
		}
		if res.Policy.String() == "" && res.Rule.String() == "" {
			at(entry, errors.New("no policy and no rule"))
			continue
		}
		var objects []finding.ObjectRef
		for _, o := range res.Resources {
			objects = append(objects, o.ref())
		}
		if len(objects) == 0 && r.Scope != nil {
			objects = append(objects, r.Scope.ref())
		}
		if len(objects) == 0 {
			// Neither the result nor the report names a resource (a
			// resourceSelector, or a report about a node or a cluster):
			// the result is attached to the report itself.
			objects = append(objects, self)
		}
		o := policyObservation(r, res)
		o.failed = failed
		for _, obj := range objects {
			o.object = obj
			b.observe(o)
			if r.Scope != nil && obj == r.Scope.ref() {
				for _, ow := range owners {
					b.owner(obj, ow)
				}
			}
		}
	}
}

// policyOutcome reads a result: fail, warn and error are failures, pass a
// pass, skip neither.
func policyOutcome(res policyResult) (failed, ok bool, err error) {
	v := strings.ToLower(res.Result.String())
	if v == "" {
		v = strings.ToLower(res.Status.String())
	}
	switch v {
	case "fail", "warn", "error":
		return true, true, nil
	case "pass":
		return false, true, nil
	case "skip":
		return false, false, nil
	case "":
		return false, false, errors.New("no result (want pass, fail, warn, error or skip)")
	}
	return false, false, fmt.Errorf("unknown result %q (want pass, fail, warn, error or skip)", v)
}

// policyObservation works out the origin and the IDs to map of a result
// from its source: Kyverno's by policy name, then by the Pod Security
// Standards checks its properties list; a trivy adapter's by rule (the
// check ID); another known tool's by policy then rule. An unknown source
// maps nothing.
func policyObservation(r policyReport, res policyResult) observation {
	source := res.Source.String()
	if source == "" {
		source = r.Source.String()
	}
	if source == "" {
		source = r.Metadata.Labels["app.kubernetes.io/managed-by"].String()
	}
	tool := sourceTool(source)
	policy := res.Policy.String()
	if tool == toolKyverno {
		// Kyverno names a namespaced Policy namespace/name.
		if i := strings.LastIndex(policy, "/"); i >= 0 {
			policy = policy[i+1:]
		}
	}
	rule := res.Rule.String()

	o := observation{
		message:  strings.TrimSpace(res.Message.String()),
		severity: parseSeverity(res.Severity.String()),
	}
	switch tool {
	case toolKyverno:
		o.origin, o.tool, o.id = toolKyverno, toolKyverno, policy
		o.groups = [][]cand{{{toolKyverno, policy}}}
		var pss []cand
		for _, c := range strings.Split(res.Properties["controls"].String(), ",") {
			if c = strings.TrimSpace(c); c != "" {
				pss = append(pss, cand{toolPSS, c})
			}
		}
		o.groups = append(o.groups, pss)
		o.title = policy
		if rule != "" {
			o.title += ": " + rule
		}
	case toolTrivy:
		o.origin, o.tool = originOf(source), toolTrivy
		o.id = rule
		if o.id == "" {
			o.id = policy
		}
		o.groups = [][]cand{{{toolTrivy, rule}}, {{toolTrivy, policy}}}
		o.title = policy // the adapter writes the check's title as the policy
	case "":
		o.origin = originOf(source)
		if o.origin == "" {
			o.origin = "policyreport"
		}
		o.id = policy
		if o.id == "" {
			o.id = rule
		}
		o.title = policy
		if rule != "" && rule != policy {
			o.title = strings.TrimPrefix(o.title+": "+rule, ": ")
		}
	default:
		o.origin, o.tool = tool, tool
		o.id = policy
		if o.id == "" {
			o.id = rule
		}
		o.groups = [][]cand{{{tool, policy}}, {{tool, rule}}}
		o.title = policy
		if rule != "" && rule != policy {
			o.title = strings.TrimPrefix(o.title+": "+rule, ": ")
		}
	}
	if o.message == "" {
		o.message = fmt.Sprintf("%s reported %s", o.origin, o.title)
	}
	return o
}

// sourceTool maps a result's source onto a catalog tool: Kyverno in all its
// spellings (kyverno, KyvernoValidatingPolicy, ValidatingAdmissionPolicy
// reported by Kyverno…), anything starting with trivy, and the other tools
// of the catalog by name; "" for an unknown source.
func sourceTool(source string) string {
	s := strings.ToLower(strings.TrimSpace(source))
	switch {
	case s == "":
		return ""
	case strings.Contains(s, "kyverno"), strings.HasSuffix(s, "admissionpolicy"):
		return toolKyverno
	case strings.HasPrefix(s, "trivy"):
		return toolTrivy
	}
	switch strings.ReplaceAll(strings.ReplaceAll(s, " ", ""), "-", "") {
	case "kubescape":
		return toolKubescape
	case "polaris":
		return toolPolaris
	case "kubescore":
		return "kube-score"
	case "checkov":
		return "checkov"
	case "kubelinter":
		return "kube-linter"
	}
	return ""
}

// originOf turns a source into an origin: lower case, spaces as dashes
// ("Trivy ConfigAudit" → "trivy-configaudit").
func originOf(source string) string {
	return strings.Join(strings.Fields(strings.ToLower(source)), "-")
}
