package config

import (
	"errors"
	"path"
	"strings"
)

// Glob is a path pattern of paths.include and paths.exclude, slash-separated
// and relative to the repository's root. Each segment is matched with
// path.Match: `*`, `?`, `[a-z]`, `[^a-z]` and `\` escapes; `*` does not
// cross a `/` and matches names that start with a dot. A segment that is
// exactly `**` matches any number of segments, none included: `**/*.yaml`
// matches `a.yaml` and `apps/x/a.yaml`; `apps/**` matches everything under
// apps/.
type Glob struct {
	pattern string
	segs    []string
}

// ParseGlob checks pattern and compiles it.
func ParseGlob(pattern string) (Glob, error) {
	switch {
	case pattern == "":
		return Glob{}, errors.New("empty pattern")
	case strings.HasPrefix(pattern, "/"):
		return Glob{}, errors.New("must be relative to the repository's root (no leading /)")
	case strings.HasSuffix(pattern, "/"):
		return Glob{}, errors.New("ends with / (write dir/** to match everything under dir)")
	}
	var segs []string
	for _, s := range strings.Split(pattern, "/") {
		switch {
		case s == "":
			return Glob{}, errors.New("empty path segment (//)")
		case s == "." || s == "..":
			return Glob{}, errors.New(`"." and ".." segments are not allowed`)
		case s == "**":
			if len(segs) > 0 && segs[len(segs)-1] == "**" {
				continue // a/**/**/b is a/**/b
			}
		case strings.Contains(s, "**"):
			return Glob{}, errors.New(`"**" must be a whole path segment (a/**/b, not a/b**)`)
		default:
			if _, err := path.Match(s, ""); err != nil {
				return Glob{}, errors.New("malformed pattern (unclosed [ or trailing \\)")
			}
		}
		segs = append(segs, s)
	}
	return Glob{pattern: pattern, segs: segs}, nil
}

// String returns the pattern as written.
func (g Glob) String() string { return g.pattern }

// Match reports whether name, a clean slash-separated path relative to the
// repository's root, matches the pattern.
func (g Glob) Match(name string) bool {
	return matchSegs(g.segs, strings.Split(name, "/"))
}

func matchSegs(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			rest := pat[1:]
			if len(rest) == 0 {
				return true
			}
			for i := range name {
				if matchSegs(rest, name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}
