package catalog

import "testing"

func BenchmarkLoadBuiltin(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := LoadBuiltin(); err != nil {
			b.Fatal(err)
		}
	}
}
