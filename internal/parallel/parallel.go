// Package parallel runs independent pieces of work on every core. Callers
// write results into slots of a slice indexed by i, so the output order
// never depends on scheduling.
package parallel

import (
	"runtime"
	"sync"
)

// Each calls fn(i) for i in [0, n) on up to GOMAXPROCS goroutines and
// returns when all calls have returned. done, when not nil, is called after
// each fn, from one goroutine at a time, with the count finished so far.
func Each(n int, fn func(i int), done func(finished int)) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	finished := 0
	next := make(chan int)
	for w := 0; w < min(runtime.GOMAXPROCS(0), max(n, 1)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
				if done != nil {
					mu.Lock()
					finished++
					done(finished)
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}
