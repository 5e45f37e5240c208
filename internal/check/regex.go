package check

import (
	"regexp"
	"sync"

	"github.com/kmend/kmend/internal/catalog"
)

var regexCache sync.Map // string → *regexp.Regexp

// regex compiles a catalog regex once; the catalog validated it at load.
func regex(s string) *regexp.Regexp {
	if r, ok := regexCache.Load(s); ok {
		return r.(*regexp.Regexp)
	}
	r := regexp.MustCompile(s)
	regexCache.Store(s, r)
	return r
}

var fieldCache sync.Map // string → catalog.Field

// parseField parses a catalog field path once; the catalog validated it.
func parseField(s string) catalog.Field {
	if f, ok := fieldCache.Load(s); ok {
		return f.(catalog.Field)
	}
	f, _ := catalog.ParseField(s)
	fieldCache.Store(s, f)
	return f
}

var defaults sync.Map // *catalog.Control → map[string]string

// params returns a control's fix parameters, with overrides when given.
// The map without overrides is shared: callers must not change it.
func params(c *catalog.Control, set map[string]string) map[string]string {
	if len(set) == 0 {
		if p, ok := defaults.Load(c); ok {
			return p.(map[string]string)
		}
	}
	p, err := c.Defaults(set)
	if err != nil {
		p, _ = c.Defaults(nil)
	}
	if len(set) == 0 {
		defaults.Store(c, p)
	}
	return p
}
