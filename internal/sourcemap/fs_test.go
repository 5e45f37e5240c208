package sourcemap

import (
	"errors"
	"path"
	"strings"
	"testing"
)

// FuzzJoinRel: whatever an annotation or a custom resource holds, joinRel
// either refuses it with ErrEscapes or returns a clean relative path that
// stays in the checkout.
func FuzzJoinRel(f *testing.F) {
	for _, s := range []string{"apps/web.yaml", "../../etc/passwd", "/etc/passwd", "a/../../b", "./a/./b/", "..", ".", "",
		`..\..\x`, "C:/x", "a\x00b", "a//b/../c", "....//x", "a/..../b"} {
		f.Add("", s)
		f.Add("overlays/prod", s)
	}
	f.Fuzz(func(t *testing.T, base, p string) {
		if b, err := joinRel("", base); err != nil || b != base {
			return // bases are always clean relative paths
		}
		got, err := joinRel(base, p)
		if err != nil {
			if !errors.Is(err, ErrEscapes) {
				t.Fatalf("joinRel(%q, %q): %v is not ErrEscapes", base, p, err)
			}
			return
		}
		if got == ".." || strings.HasPrefix(got, "../") || path.IsAbs(got) || strings.ContainsAny(got, "\x00\\") {
			t.Fatalf("joinRel(%q, %q) = %q leaves the checkout", base, p, got)
		}
		if got != "" && path.Clean(got) != got {
			t.Fatalf("joinRel(%q, %q) = %q is not clean", base, p, got)
		}
	})
}

func FuzzParseTrackingID(f *testing.F) {
	for _, s := range []string{"app:apps/Deployment:ns/name", "app:/Service:ns/name", "a_b:g/K:/n", "::", ":/:/", "a:b:c:d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := parseTrackingID(s)
		if err != nil {
			if !errors.Is(err, ErrUntrusted) {
				t.Fatal(err)
			}
			return
		}
		if id.app == "" || id.kind == "" || id.name == "" {
			t.Fatalf("parseTrackingID(%q) = %+v", s, id)
		}
	})
}
