package render

import "testing"

func BenchmarkPR2000(b *testing.B) {
	controls := builtin(b).All()
	cs := genChangeSet(controls, 2000, 1, genOptions{perObject: 3, perFile: 2, hunkLines: 8, left: 10})
	b.ResetTimer()
	for b.Loop() {
		if _, err := PR(cs, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
