package finding

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"testing"
)

// Sort must give exactly what sorting the findings themselves with Compare
// gives, ties included (findings that differ only in fields Compare does
// not look at).
func TestSortIsSortFuncOfCompare(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7, 12, 13, 50, 1000, 5000} {
		fs := benchFindings(n)
		for i := 0; i+1 < len(fs); i += 9 {
			tie := fs[i]
			tie.Message = fmt.Sprintf("tie %d", i)
			tie.Severity = SeverityCritical
			fs[i+1] = tie
		}
		want := slices.Clone(fs)
		slices.SortFunc(want, Compare)
		got := slices.Clone(fs)
		Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("n=%d: Sort differs from slices.SortFunc(fs, Compare)", n)
		}
		if !IsSorted(got) {
			t.Errorf("n=%d: IsSorted is false after Sort", n)
		}
		if n > 2 && IsSorted(fs) {
			t.Errorf("n=%d: IsSorted is true before Sort", n)
		}
	}
}

func TestCompareKeys(t *testing.T) {
	base := Finding{ControlID: "KM-002", Object: ObjectRef{Kind: "Deployment", Namespace: "shop", Name: "b"}, ContainerType: "containers", Path: "p", Origin: "kmend",
		Position: Position{File: "b.yaml", Document: 1, Line: 5}}
	for name, less := range map[string]func(*Finding){
		"file":          func(f *Finding) { f.Position.File = "a.yaml" },
		"document":      func(f *Finding) { f.Position.Document = 0 },
		"line":          func(f *Finding) { f.Position.Line = 4 },
		"kind":          func(f *Finding) { f.Object.Kind = "CronJob" },
		"namespace":     func(f *Finding) { f.Object.Namespace = "" },
		"name":          func(f *Finding) { f.Object.Name = "a" },
		"containerType": func(f *Finding) { f.ContainerType = "" },
		"control":       func(f *Finding) { f.ControlID = "KM-001" },
		"path":          func(f *Finding) { f.Path = "o" },
		"origin":        func(f *Finding) { f.Origin = "kicks" },
	} {
		a := base
		less(&a)
		if Compare(a, base) >= 0 || Compare(base, a) <= 0 {
			t.Errorf("%s: not ordered first", name)
		}
	}
	if Compare(base, base) != 0 {
		t.Error("a finding is not equal to itself")
	}
}

// The fingerprint is published (reports, PR markers): it must not change.
func TestFingerprintIsStable(t *testing.T) {
	old := func(f Finding) string {
		h := sha256.New()
		for _, s := range []string{f.ControlID, f.Object.Cluster, f.Object.APIVersion, f.Object.Kind,
			f.Object.Namespace, f.Object.Name, f.ContainerType, f.Container, f.Path} {
			h.Write([]byte(s))
			h.Write([]byte{0})
		}
		return hex.EncodeToString(h.Sum(nil))[:16]
	}
	fs := benchFindings(200)
	long := fs[0]
	long.Path = string(make([]byte, 300))
	fs = append(fs, Finding{}, long)
	for _, f := range fs {
		if got, want := f.Fingerprint(), old(f); got != want {
			t.Fatalf("Fingerprint() = %s, want %s", got, want)
		}
	}
	f := Finding{ControlID: "KM-001", Object: ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"},
		ContainerType: "containers", Container: "app", Path: "spec.template.spec.containers[0].securityContext.privileged"}
	if got := f.Fingerprint(); got != old(f) || len(got) != 16 {
		t.Errorf("Fingerprint() = %s", got)
	}
}
