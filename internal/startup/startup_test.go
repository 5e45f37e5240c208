package startup

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

var (
	sink []byte
	runs int
)

func gcCycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func isPaused() bool {
	mu.Lock()
	defer mu.Unlock()
	return paused
}

// garbage allocates n bytes that nothing keeps.
func garbage(n int) {
	for ; n > 0; n -= 1 << 20 {
		sink = make([]byte, 1<<20)
		sink[0] = 1
	}
	sink = nil
}

// TestDone: the collector is off from init to Done (GOGC unset); after
// Done it stays off while the process uses less than Headroom more memory,
// and the first collection, at that mark, restores the collector and the
// memory limit as they were before init.
func TestDone(t *testing.T) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		if paused {
			t.Fatal("GOGC or GOMEMLIMIT is set, yet init paused the collector")
		}
		return
	}
	if runs++; runs > 1 {
		// -count=N: init ran once; pause as it does.
		prevGC, paused, deferred = debug.SetGCPercent(-1), true, false
	}
	if !paused {
		t.Fatal("init did not pause the collector")
	}
	if p := debug.SetGCPercent(-1); p != -1 {
		t.Fatalf("collector on before Done: GC percent %d", p)
	}
	before := inUse()
	Done()
	limit := debug.SetMemoryLimit(-1) // reads it
	if limit < before+Headroom-(8<<20) || limit > before+Headroom+(8<<20) {
		t.Fatalf("memory limit after Done %d MiB, want about %d MiB (in use %d MiB + headroom)", limit>>20, (before+Headroom)>>20, before>>20)
	}
	Done() // a second call changes nothing
	if l := debug.SetMemoryLimit(-1); l != limit {
		t.Fatalf("a second Done moved the memory limit: %d → %d", limit, l)
	}

	n0 := gcCycles()
	garbage(Headroom / 4)
	if n := gcCycles(); n != n0 || !isPaused() {
		t.Fatalf("%d collections within the headroom (paused %v)", n-n0, isPaused())
	}
	garbage(2 * Headroom)
	deadline := time.Now().Add(10 * time.Second)
	for isPaused() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if isPaused() {
		t.Fatalf("still paused after allocating twice the headroom (%d collections)", gcCycles()-n0)
	}
	if gcCycles() == n0 {
		t.Fatal("the collector was restored without a collection")
	}
	if p := debug.SetGCPercent(prevGC); p != prevGC || p < 0 {
		t.Fatalf("after the first collection: GC percent %d, want %d", p, prevGC)
	}
	if l := debug.SetMemoryLimit(-1); l != prevLim {
		t.Fatalf("after the first collection: memory limit %d, want %d", l, prevLim)
	}
	Resume() // a second call changes nothing
	if p := debug.SetGCPercent(prevGC); p != prevGC {
		t.Fatalf("after Resume: GC percent %d", p)
	}
}
