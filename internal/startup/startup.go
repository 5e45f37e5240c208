// Package startup keeps the garbage collector off while the packages kmend
// links initialise. Those initialisers (the Helm SDK's JSON-schema
// meta-schemas, client-go's scheme, Prometheus' registry, …) allocate about
// 5 MiB, past the collector's first 4 MiB goal: a small scan collected two
// or three times before it read a file, a tenth of its wall time, to free
// a few MiB that a process this short never needs back.
//
// Go initialises packages in the order of their import paths, each as soon
// as its imports are (the language specification, since Go 1.21): this
// package imports only the standard library, so it runs before the large
// third-party ones. main calls Done first thing to turn the collector back
// on. GOGC set in the environment is left alone.
package startup

import (
	"os"
	"runtime/debug"
)

var (
	paused bool
	prev   int
)

func init() {
	if os.Getenv("GOGC") == "" {
		prev, paused = debug.SetGCPercent(-1), true
	}
}

// Done turns the collector back on, as it was before init.
func Done() {
	if paused {
		debug.SetGCPercent(prev)
		paused = false
	}
}
