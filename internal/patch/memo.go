package patch

import "sync"

// memoSize bounds a memo: a long-running server renders fixes for objects
// without end, so the memo forgets everything when it is full.
const memoSize = 4096

// memo keeps the results of a function of a string that always gives the
// same result for the same string. Errors are not kept.
type memo[V any] struct {
	mu sync.Mutex
	m  map[string]V
}

func (c *memo[V]) get(key string, f func(string) (V, error)) (V, error) {
	c.mu.Lock()
	v, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := f(key)
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= memoSize {
		c.m = map[string]V{}
	}
	c.m[key] = v
	c.mu.Unlock()
	return v, nil
}
