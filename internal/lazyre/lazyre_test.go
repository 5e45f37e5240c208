package lazyre

import (
	"strings"
	"testing"
)

// TestLazy: a Regexp compiles on first use and matches as regexp does;
// Check names a pattern that does not compile, before any use panics.
func TestLazy(t *testing.T) {
	r := New(`^([a-z]+)-(\d+)$`)
	if got := r.FindStringSubmatch("web-12"); len(got) != 3 || got[1] != "web" || got[2] != "12" {
		t.Errorf("FindStringSubmatch: %q", got)
	}
	if r.MatchString("web-x") || !r.Match([]byte("a-1")) {
		t.Error("MatchString/Match disagree with the pattern")
	}
	if r.Regexp() != r.Regexp() {
		t.Error("compiled twice")
	}
	if err := Check(); err != nil {
		t.Fatalf("good patterns: %v", err)
	}
	bad := New(`a{2,1}`)
	err := Check()
	if err == nil || !strings.Contains(err.Error(), `"a{2,1}"`) {
		t.Fatalf("Check of a bad pattern: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("a bad pattern's first use did not panic")
		}
	}()
	bad.MatchString("aa")
}
