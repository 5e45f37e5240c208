package helm

import "testing"

// BenchmarkPlan plans chart (a), the helm create layout, with every
// control of the built-in catalog and auto and review fixes: 12 keys set,
// 14 manual fallbacks (13 on the chart's test Pod), each key tried by
// rendering again.
func BenchmarkPlan(b *testing.B) {
	cs := controls(b)
	opts := Options{Renderer: Renderer{Repo: fixtures}, Fixability: autoReview}
	b.ReportAllocs()
	for b.Loop() {
		res, err := Plan("webapp", nil, cs, opts)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Fixes) != 12 {
			b.Fatalf("%d fixes", len(res.Fixes))
		}
		b.ReportMetric(float64(res.Renders), "renders/op")
	}
}

// BenchmarkRender renders chart (a) once.
func BenchmarkRender(b *testing.B) {
	r := Renderer{Repo: fixtures}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Render("webapp"); err != nil {
			b.Fatal(err)
		}
	}
}
