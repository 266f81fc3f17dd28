package webhook

import (
	"container/list"
	"sync"
	"time"
)

// seen is a bounded, time-limited set of deliveries already acted on (event ids and token
// signatures). A key is reserved while its event is being enqueued, so two copies of one delivery
// arriving at once enqueue once; it is released if enqueueing fails, so LiveKit's retry works.
type seen struct {
	mu    sync.Mutex
	ttl   time.Duration
	max   int
	keys  map[string]*list.Element // nil Element: reserved, in flight
	order *list.List               // of entry, oldest first (all share one ttl)
}

type entry struct {
	key string
	at  time.Time
}

func newSeen(ttl time.Duration, max int) *seen {
	return &seen{ttl: ttl, max: max, keys: make(map[string]*list.Element), order: list.New()}
}

// reserve marks keys in flight, unless one of them is known (done or in flight).
func (s *seen) reserve(now time.Time, keys ...string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(now)
	for _, k := range keys {
		if _, ok := s.keys[k]; ok {
			return false
		}
	}
	for _, k := range keys {
		s.keys[k] = nil
	}
	return true
}

// done turns reserved keys into remembered ones, forgetting the oldest beyond max.
func (s *seen) done(now time.Time, keys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		s.keys[k] = s.order.PushBack(entry{key: k, at: now})
	}
	for s.order.Len() > s.max {
		s.drop(s.order.Front())
	}
}

// release forgets reserved keys.
func (s *seen) release(keys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		if e, ok := s.keys[k]; ok && e == nil {
			delete(s.keys, k)
		}
	}
}

// len is the number of remembered and reserved keys.
func (s *seen) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.keys)
}

func (s *seen) expire(now time.Time) {
	for e := s.order.Front(); e != nil && now.Sub(e.Value.(entry).at) >= s.ttl; e = s.order.Front() {
		s.drop(e)
	}
}

func (s *seen) drop(e *list.Element) {
	delete(s.keys, e.Value.(entry).key)
	s.order.Remove(e)
}
