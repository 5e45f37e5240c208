// Package startup sets the garbage collector up for a command-line run.
//
// While the packages kmend links initialise, the collector is off: those
// initialisers (client-go's scheme, Prometheus' registry, the Helm SDK, …)
// allocate a few MiB, past the collector's first 4 MiB goal, and a small
// scan used to collect two or three times before it read a file, to free
// memory a process this short never needs back.
//
// Done, which main calls first thing, does not turn the collector straight
// back on: it leaves it off until the process has used Headroom more
// memory (a soft memory limit, runtime/debug.SetMemoryLimit, is what
// triggers that first collection), then restores the usual proportional
// collector (GOGC=100) for the rest of the run. A scan or fix of a small
// repository finishes without collecting at all; a large one collects
// once at that mark and then as usual, so its peak memory is what it was.
// The GitHub App and the cluster watcher are long-running: they cross the
// mark early and run with the usual collector from then on.
//
// Go initialises packages in the order of their import paths, each as soon
// as its imports are (the language specification, since Go 1.21): this
// package imports only the standard library, so it runs before the large
// third-party ones. GOGC or GOMEMLIMIT set in the environment leaves the
// collector alone throughout.
package startup

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Headroom is how much more memory than at Done the process may use before
// its first collection.
const Headroom = 64 << 20

var (
	mu       sync.Mutex
	paused   bool // the collector is off (init, or Done's headroom)
	deferred bool // Done set a memory limit to end the pause
	prevGC   int
	prevLim  int64
)

func init() {
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		prevGC, paused = debug.SetGCPercent(-1), true
	}
}

// Done ends initialisation: from here the collector stays off until the
// process has used Headroom more memory, then runs as it did before init.
func Done() {
	mu.Lock()
	defer mu.Unlock()
	if !paused || deferred {
		return
	}
	deferred = true
	prevLim = debug.SetMemoryLimit(inUse() + Headroom)
	// The sentinel is unreachable at once, so the first collection (the
	// memory limit's) queues its finalizer, which restores the collector.
	sentinel := new([16]byte)
	runtime.SetFinalizer(sentinel, func(*[16]byte) { Resume() })
}

// Resume restores the collector as it was before init, at once. Done's
// first collection calls it; so may a caller that wants the usual
// collector before then. A second call changes nothing.
func Resume() {
	mu.Lock()
	defer mu.Unlock()
	if !paused {
		return
	}
	debug.SetGCPercent(prevGC)
	if deferred {
		debug.SetMemoryLimit(prevLim)
	}
	paused = false
}

// inUse is the memory the runtime counts against a memory limit: all it
// has mapped, less what it has given back to the system.
func inUse() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	total, released := s[0].Value.Uint64(), s[1].Value.Uint64()
	if total < released || total-released > math.MaxInt64-Headroom {
		return 0
	}
	return int64(total - released)
}
