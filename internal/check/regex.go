package check

import (
	"regexp"
	"sync"
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
