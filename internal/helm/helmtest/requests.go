package helmtest

import (
	"maps"
	"sync"
)

// requests counts a test server's requests by a key (a path, or a method
// and a path); Server and Registry embed it.
type requests struct {
	mu     sync.Mutex
	counts map[string]int
}

func (r *requests) add(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.counts == nil {
		r.counts = map[string]int{}
	}
	r.counts[key]++
}

func (r *requests) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	clear(r.counts)
}

// Count is the number of requests for key.
func (r *requests) Count(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[key]
}

// Total is the number of requests.
func (r *requests) Total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.counts {
		n += c
	}
	return n
}

// Requests are the counts by key.
func (r *requests) Requests() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.counts)
}
