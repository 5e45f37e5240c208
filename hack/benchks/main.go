// Command benchks is hack/bench.sh's reading of kube-score's findings before
// and after `kmend fix`, grouped by how kmend fixes each of them.
//
//	benchks BEFORE.json AFTER.json...
//
// Each file is the output of `kube-score score -o json`. A finding is an
// object and a kube-score check that failed on it (grade critical or
// warning, not skipped). Each check maps through the catalog's foreign IDs
// (foreignIDs.kubeScore) to kmend controls, and a finding is grouped by the
// least automatic fixability among them: auto (kmend fix fixes it by
// default), review (with --fixability auto,review), manual, or unmapped (no
// kmend control). For each AFTER, one line is printed:
//
//	auto_before auto_after review_before review_after manual_before manual_after unmapped_before unmapped_after
//
// which shows whether the findings that kmend fix claims to fix are gone by
// kube-score's own judgement.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/finding"
)

// groups, in the order printed.
var groups = []string{string(finding.FixAuto), string(finding.FixReview), string(finding.FixManual), "unmapped"}

// ksObject is the part of kube-score's JSON output read here.
type ksObject struct {
	ObjectName string `json:"object_name"`
	FileName   string `json:"file_name"`
	Checks     []struct {
		Check struct {
			ID string `json:"id"`
		} `json:"check"`
		Grade   int  `json:"grade"`
		Skipped bool `json:"skipped"`
	} `json:"checks"`
}

// kube-score's grades: 1 critical, 5 warning, 7 almost OK, 10 all OK.
const worstPassingGrade = 7

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: benchks BEFORE.json AFTER.json...")
		os.Exit(2)
	}
	cat, err := catalog.Load()
	if err != nil {
		fail(err)
	}
	before, err := count(os.Args[1], cat)
	if err != nil {
		fail(err)
	}
	for _, p := range os.Args[2:] {
		after, err := count(p, cat)
		if err != nil {
			fail(err)
		}
		for i, g := range groups {
			if i > 0 {
				fmt.Print(" ")
			}
			fmt.Printf("%d %d", before[g], after[g])
		}
		fmt.Println()
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchks:", err)
	os.Exit(1)
}

// count reads one kube-score report and counts its findings per group.
func count(path string, cat *catalog.Catalog) (map[string]int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var objs []ksObject
	if err := json.Unmarshal(b, &objs); err != nil {
		return nil, fmt.Errorf("%s: not kube-score -o json output: %w", path, err)
	}
	out := map[string]int{}
	for _, o := range objs {
		for _, c := range o.Checks {
			if c.Skipped || c.Grade >= worstPassingGrade {
				continue
			}
			out[group(cat.Lookup("kube-score", c.Check.ID))]++
		}
	}
	return out, nil
}

// group is the least automatic fixability of the controls (unmapped when
// there are none): a finding is fixed by default only if every control it
// stands for is.
func group(cs []*catalog.Control) string {
	if len(cs) == 0 {
		return "unmapped"
	}
	rank := map[finding.Fixability]int{finding.FixAuto: 0, finding.FixReview: 1, finding.FixManual: 2}
	worst := finding.FixAuto
	for _, c := range cs {
		if rank[c.Fix.Fixability] > rank[worst] {
			worst = c.Fix.Fixability
		}
	}
	return string(worst)
}
