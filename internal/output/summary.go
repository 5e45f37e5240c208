package output

import "github.com/kmend/kmend/internal/finding"

// Summarize counts a report's findings.
func Summarize(r *Report, files, objects int, score float64) Summary {
	s := Summary{
		Files:      files,
		Objects:    objects,
		Findings:   len(r.Findings),
		Suppressed: len(r.Suppressed),
		Errors:     len(r.Errors),
		BySeverity: map[string]int{},
		ByReason:   map[finding.Reason]int{},
		Fixable:    map[finding.Fixability]int{},
		Score:      score,
	}
	for i := range r.Findings {
		f := &r.Findings[i]
		s.BySeverity[f.Severity.String()]++
		s.ByReason[f.Reason]++
		s.Fixable[f.Fixability]++
	}
	return s
}
