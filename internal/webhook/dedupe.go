package webhook

import (
	"container/list"
	"sync"
	"time"
)

// Defaults for the set of delivery IDs already accepted.
const (
	DefaultDedupeSize = 10000
	DefaultDedupeTTL  = 24 * time.Hour
)

// seenSet remembers delivery IDs: at most size of them (least recently
// added forgotten first), each for ttl.
type seenSet struct {
	mu    sync.Mutex
	size  int
	ttl   time.Duration
	order *list.List // of *seenEntry, oldest at the front
	byID  map[string]*list.Element
}

type seenEntry struct {
	id   string
	seen time.Time
}

func newSeenSet(size int, ttl time.Duration) *seenSet {
	return &seenSet{size: size, ttl: ttl, order: list.New(), byID: make(map[string]*list.Element)}
}

// claim runs accept unless id was accepted within the TTL, and remembers id
// only when accept returns nil. It holds the set's lock while accept runs,
// so that of concurrent claims of one ID exactly one runs accept; accept
// must therefore be quick and must not block.
func (s *seenSet) claim(id string, now time.Time, accept func() error) (duplicate bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(now)
	if _, ok := s.byID[id]; ok {
		return true, nil
	}
	if err := accept(); err != nil {
		return false, err
	}
	s.byID[id] = s.order.PushBack(&seenEntry{id: id, seen: now})
	for s.order.Len() > s.size {
		s.remove(s.order.Front())
	}
	return false, nil
}

// expire forgets the IDs older than the TTL. Entries are in the order they
// were added, so it stops at the first one that is still fresh.
func (s *seenSet) expire(now time.Time) {
	for e := s.order.Front(); e != nil; e = s.order.Front() {
		if now.Sub(e.Value.(*seenEntry).seen) < s.ttl {
			return
		}
		s.remove(e)
	}
}

func (s *seenSet) remove(e *list.Element) {
	delete(s.byID, e.Value.(*seenEntry).id)
	s.order.Remove(e)
}

// len reports how many IDs are remembered.
func (s *seenSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.order.Len()
}
