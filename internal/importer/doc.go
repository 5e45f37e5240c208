// Package importer reads other scanners' reports and turns their failing
// results into kmend findings (finding.Finding with Reason reported), mapped
// onto the catalog through each control's foreignIDs.
//
// It reads the policy reports of the Kubernetes Policy working group
// (wgpolicyk8s.io PolicyReport and ClusterPolicyReport, as Kyverno writes
// them), OpenReports (openreports.io Report and ClusterReport), Kubescape's
// JSON results (kubescape scan --format json) and trivy-operator's
// ConfigAuditReports, as YAML or JSON, single objects, Lists and
// multi-document files. docs/import.md describes the formats and the
// mapping rules.
//
// DESIGN places importers with the findings; they live in a package of
// their own so that internal/finding stays a package of shared types with no
// parsing code, and so that no stage that only needs the types pulls in the
// report formats.
package importer
