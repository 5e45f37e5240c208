// Package lazyre holds regular expressions that are compiled on first use
// rather than while the program initialises.
//
// A package-level regexp.MustCompile runs in every run of the binary, used
// or not; patterns with counted repetition (`[a-z0-9-]{0,99}`) compile to
// large programs, and kmend's thirty-odd of them took about a millisecond of
// every start-up. A Regexp here costs nothing until a method is called;
// Check compiles them all, so a test still catches a bad pattern.
package lazyre

import (
	"errors"
	"fmt"
	"regexp"
	"sync"
)

// Regexp is a regexp.Regexp compiled on first use. Its methods are those
// of regexp.Regexp, by the same names.
type Regexp struct {
	expr string
	get  func() *regexp.Regexp
}

var (
	mu  sync.Mutex
	all []*Regexp
)

// New returns expr, to be compiled on first use; a bad expr panics then,
// as regexp.MustCompile would (Check finds it first, in a test).
func New(expr string) *Regexp {
	r := &Regexp{expr: expr, get: sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })}
	mu.Lock()
	all = append(all, r)
	mu.Unlock()
	return r
}

// Check compiles every Regexp made so far and reports those that do not.
func Check() error {
	mu.Lock()
	defer mu.Unlock()
	var errs []error
	for _, r := range all {
		if _, err := regexp.Compile(r.expr); err != nil {
			errs = append(errs, fmt.Errorf("lazyre: %q: %w", r.expr, err))
		}
	}
	return errors.Join(errs...)
}

// Regexp is the compiled expression.
func (r *Regexp) Regexp() *regexp.Regexp { return r.get() }

func (r *Regexp) String() string                       { return r.expr }
func (r *Regexp) MatchString(s string) bool            { return r.get().MatchString(s) }
func (r *Regexp) Match(b []byte) bool                  { return r.get().Match(b) }
func (r *Regexp) FindString(s string) string           { return r.get().FindString(s) }
func (r *Regexp) FindStringSubmatch(s string) []string { return r.get().FindStringSubmatch(s) }
func (r *Regexp) FindAllStringSubmatch(s string, n int) [][]string {
	return r.get().FindAllStringSubmatch(s, n)
}
func (r *Regexp) FindAllSubmatch(b []byte, n int) [][][]byte { return r.get().FindAllSubmatch(b, n) }
func (r *Regexp) FindSubmatch(b []byte) [][]byte             { return r.get().FindSubmatch(b) }
func (r *Regexp) ReplaceAllString(src, repl string) string {
	return r.get().ReplaceAllString(src, repl)
}
func (r *Regexp) FindAllStringSubmatchIndex(s string, n int) [][]int {
	return r.get().FindAllStringSubmatchIndex(s, n)
}
