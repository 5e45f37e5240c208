package parallel

import (
	"sync/atomic"
	"testing"
)

func TestEachRunsEveryIndexOnce(t *testing.T) {
	const n = 1000
	var seen [n]int32
	var calls int32
	last := 0
	Each(n, func(i int) { atomic.AddInt32(&seen[i], 1) }, func(f int) {
		calls++
		if f != last+1 {
			t.Errorf("progress %d after %d", f, last)
		}
		last = f
	})
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("index %d ran %d times", i, c)
		}
	}
	if calls != n {
		t.Fatalf("progress called %d times", calls)
	}
	Each(0, func(int) { t.Fatal("called for n = 0") }, nil)
}
