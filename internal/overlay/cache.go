package overlay

import (
	"path/filepath"
	"sync"

	"github.com/kmend/kmend/internal/kustomize"
)

// cacheVariants bounds how many renderings of one root a Cache keeps: the
// repository as it is, and the states a plan tried on the way.
const cacheVariants = 8

// Cache keeps kustomize renderings keyed by root and by the content of
// every file the rendering read (kustomize.Rendering.Reads): a root is
// rendered again only when one of those files changed. One Cache may serve
// several plans (kmend fix run twice, a watcher), and is safe for
// concurrent use. The zero value is not usable: call NewCache.
type Cache struct {
	mu      sync.Mutex
	entries map[string][]*cached // repository + root → newest first
	hits    int
	misses  int
}

type cached struct {
	r   *kustomize.Rendering
	err error
}

// NewCache returns an empty cache.
func NewCache() *Cache { return &Cache{entries: map[string][]*cached{}} }

// Stats returns how many renderings were served from the cache and how
// many were built.
func (c *Cache) Stats() (hits, builds int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses
}

// render returns the rendering of root in the view, from the cache when
// every file it read still reads the same.
func (c *Cache) render(repo, root string, v *view) (*kustomize.Rendering, error) {
	key := v.disk.repo + "\x00" + filepath.ToSlash(root)
	c.mu.Lock()
	list := c.entries[key]
	c.mu.Unlock()
	for _, e := range list {
		if fresh(e.r, v) {
			c.mu.Lock()
			c.hits++
			c.mu.Unlock()
			return e.r, e.err
		}
	}
	r, err := kustomize.BuildWith(repo, root, kustomize.BuildOptions{Files: v.files})
	c.mu.Lock()
	c.misses++
	list = append([]*cached{{r: r, err: err}}, c.entries[key]...)
	if len(list) > cacheVariants {
		list = list[:cacheVariants]
	}
	c.entries[key] = list
	c.mu.Unlock()
	return r, err
}

// fresh reports whether every path a rendering read reads the same in v.
func fresh(r *kustomize.Rendering, v *view) bool {
	if r == nil || len(r.Reads) == 0 {
		return false
	}
	for p, was := range r.Reads {
		if v.status(p, was) != was {
			return false
		}
	}
	return true
}
