package startup

import (
	"os"
	"runtime/debug"
	"testing"
)

// TestDone: the collector is off from init to Done (GOGC unset), then back
// at the percent it had.
func TestDone(t *testing.T) {
	if os.Getenv("GOGC") != "" {
		if paused {
			t.Fatal("GOGC is set, yet init paused the collector")
		}
		return
	}
	if !paused {
		t.Fatal("init did not pause the collector")
	}
	if p := debug.SetGCPercent(-1); p != -1 {
		t.Fatalf("collector on before Done: GC percent %d", p)
	}
	Done()
	if p := debug.SetGCPercent(prev); p != prev || p < 0 {
		t.Fatalf("after Done: GC percent %d, want %d", p, prev)
	}
	Done() // a second call changes nothing
	if p := debug.SetGCPercent(prev); p != prev {
		t.Fatalf("after a second Done: GC percent %d", p)
	}
}
