package output

import (
	"fmt"
	"io"
	"testing"

	"github.com/kmend/kmend/internal/finding"
)

// bigReport is richReport with its findings repeated over n files, as a
// large scan reports them.
func bigReport(n int) *Report {
	r := richReport()
	var fs, sup []finding.Finding
	for i := range n {
		for _, f := range r.Findings {
			if f.Position.File != "" {
				f.Position.File = fmt.Sprintf("team-%03d/app-%05d.yaml", i/100, i)
			}
			fs = append(fs, f)
		}
		for _, f := range r.Suppressed {
			f.Position.File = fmt.Sprintf("team-%03d/app-%05d.yaml", i/100, i)
			sup = append(sup, f)
		}
	}
	finding.Sort(fs)
	finding.Sort(sup)
	r.Findings, r.Suppressed = fs, sup
	return r
}

func BenchmarkWriteJSON(b *testing.B) {
	r := bigReport(1000)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := WriteJSON(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteSARIF(b *testing.B) {
	r := bigReport(1000)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := WriteSARIF(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}
