package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/kmend/kmend/internal/finding"
)

// OriginTrivyOperator is the Origin of findings read from ConfigAuditReports.
const OriginTrivyOperator = "trivy-operator"

// configAuditReport is an aquasecurity.github.io ConfigAuditReport or
// ClusterConfigAuditReport.
type configAuditReport struct {
	APIVersion str        `json:"apiVersion"`
	Kind       str        `json:"kind"`
	Metadata   objectMeta `json:"metadata"`
	Report     struct {
		Scanner struct {
			Name str `json:"name"`
		} `json:"scanner"`
		Checks []json.RawMessage `json:"checks"`
	} `json:"report"`
}

type trivyCheck struct {
	CheckID     str   `json:"checkID"`
	Title       str   `json:"title"`
	Description str   `json:"description"`
	Severity    str   `json:"severity"`
	Messages    []str `json:"messages"`
	Success     *bool `json:"success"`
	Scope       *struct {
		Type  str `json:"type"`
		Value str `json:"value"`
	} `json:"scope"`
}

// Labels trivy-operator (and Starboard before it) puts on a report to name
// the audited object.
var resourceLabels = [][3]string{
	{"trivy-operator.resource.kind", "trivy-operator.resource.name", "trivy-operator.resource.namespace"},
	{"starboard.resource.kind", "starboard.resource.name", "starboard.resource.namespace"},
}

func parseTrivy(b *builder, raw []byte, at func(entry string, err error)) {
	var r configAuditReport
	if err := json.Unmarshal(raw, &r); err != nil {
		at("", entryError(err))
		return
	}
	obj, err := trivyObject(r)
	if err != nil {
		at("", err)
		return
	}
	for _, o := range r.Metadata.OwnerReferences {
		b.owner(obj, o.owner(OwnerFromReport))
	}
	// The scanner says whose IDs the checks carry: Trivy's (KSV…) unless
	// the report came from Starboard's Polaris plugin.
	tool := toolTrivy
	if strings.EqualFold(r.Report.Scanner.Name.String(), "polaris") {
		tool = toolPolaris
	}
	for i, rawCheck := range r.Report.Checks {
		entry := fmt.Sprintf("report.checks[%d]", i)
		var c trivyCheck
		if err := json.Unmarshal(rawCheck, &c); err != nil {
			at(entry, entryError(err))
			continue
		}
		id := c.CheckID.String()
		if id == "" {
			at(entry, errors.New("no checkID"))
			continue
		}
		if c.Success == nil {
			at(entry, errors.New("no success (want true or false)"))
			continue
		}
		o := observation{
			origin:   OriginTrivyOperator,
			tool:     tool,
			groups:   [][]cand{{{tool, id}}},
			id:       id,
			title:    c.Title.String(),
			message:  trivyMessage(c),
			severity: parseSeverity(c.Severity.String()),
			object:   obj,
			failed:   !*c.Success,
		}
		if c.Scope != nil {
			switch strings.ToLower(c.Scope.Type.String()) {
			case "container":
				o.container = c.Scope.Value.String()
			case "jsonpath":
				o.path = strings.TrimPrefix(c.Scope.Value.String(), ".")
			}
		}
		b.observe(o)
	}
}

// trivyObject names the audited object: by the resource labels, with the
// API version and UID of the owner reference that names the same object;
// without labels, by the report's controller owner reference (trivy-operator
// makes the audited object own its report). The report's namespace stands
// in for a missing namespace label. Nothing else is inferred: a report on a
// ReplicaSet names the ReplicaSet, and its Deployment is found by walking
// the owner references (Result.Owners), not by guessing from the name.
func trivyObject(r configAuditReport) (finding.ObjectRef, error) {
	labels := r.Metadata.Labels
	var ref finding.ObjectRef
	for _, l := range resourceLabels {
		if labels[l[0]].String() != "" && labels[l[1]].String() != "" {
			ref = finding.ObjectRef{Kind: labels[l[0]].String(), Name: labels[l[1]].String(), Namespace: labels[l[2]].String()}
			break
		}
	}
	if ref.Kind == "" {
		for _, o := range r.Metadata.OwnerReferences {
			if o.Controller != nil && *o.Controller {
				ref = finding.ObjectRef{Kind: o.Kind.String(), Name: o.Name.String()}
				break
			}
		}
	}
	if ref.Kind == "" || ref.Name == "" {
		return ref, errors.New("the report names no resource (no trivy-operator.resource.kind/name labels and no controller ownerReference)")
	}
	if ref.Namespace == "" && r.Kind.String() == "ConfigAuditReport" {
		ref.Namespace = r.Metadata.Namespace.String()
	}
	for _, o := range r.Metadata.OwnerReferences {
		if o.Kind.String() == ref.Kind && o.Name.String() == ref.Name {
			ref.APIVersion, ref.UID = o.APIVersion.String(), o.UID.String()
			break
		}
	}
	return ref, nil
}

// trivyMessage is the check's messages, else its description, else its
// title.
func trivyMessage(c trivyCheck) string {
	var msgs []string
	for _, m := range c.Messages {
		if s := m.String(); s != "" {
			msgs = append(msgs, s)
		}
	}
	if len(msgs) > 0 {
		return strings.Join(msgs, "\n")
	}
	if d := c.Description.String(); d != "" {
		return d
	}
	return c.Title.String()
}
