package verify

import (
	"container/list"
	"sync"
	"time"
)

type entry struct {
	id    Identity
	err   error
	until time.Time
}

// cache is a bounded LRU of the server's answers, each with its own expiry.
type cache struct {
	mu    sync.Mutex
	max   int
	order *list.List // front: most recently used; values are keys
	items map[string]*list.Element
	vals  map[string]entry
}

func newCache(max int) *cache {
	return &cache{max: max, order: list.New(), items: map[string]*list.Element{}, vals: map[string]entry{}}
}

func (c *cache) get(key string, now time.Time) (entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return entry{}, false
	}
	e := c.vals[key]
	if !now.Before(e.until) {
		c.remove(el)
		return entry{}, false
	}
	c.order.MoveToFront(el)
	return e, true
}

func (c *cache) put(key string, e entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.vals[key] = e
		c.order.MoveToFront(el)
		return
	}
	c.items[key] = c.order.PushFront(key)
	c.vals[key] = e
	for c.order.Len() > c.max {
		c.remove(c.order.Back())
	}
}

func (c *cache) remove(el *list.Element) {
	key := el.Value.(string)
	c.order.Remove(el)
	delete(c.items, key)
	delete(c.vals, key)
}
