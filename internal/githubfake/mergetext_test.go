package githubfake

import "testing"

func TestMerge3Text(t *testing.T) {
	base := "a\nb\nc\nd\ne\n"
	cases := []struct {
		name, ours, theirs, want string
		ok                       bool
	}{
		{"different lines", "A\nb\nc\nd\ne\n", "a\nb\nc\nd\nE\n", "A\nb\nc\nd\nE\n", true},
		{"same change", "a\nB\nc\nd\ne\n", "a\nB\nc\nd\ne\n", "a\nB\nc\nd\ne\n", true},
		{"same line differently", "a\nB\nc\nd\ne\n", "a\nX\nc\nd\ne\n", "", false},
		{"adjacent lines", "a\nB\nc\nd\ne\n", "a\nb\nC\nd\ne\n", "", false},
		{"insert and delete apart", "a\nb\nnew\nc\nd\ne\n", "a\nb\nc\nd\n", "a\nb\nnew\nc\nd\n", true},
		{"one side only", "a\nb\nc\nd\ne\nf\n", base, "a\nb\nc\nd\ne\nf\n", true},
	}
	for _, tc := range cases {
		got, ok := merge3Text([]byte(base), []byte(tc.ours), []byte(tc.theirs))
		if ok != tc.ok || (ok && string(got) != tc.want) {
			t.Errorf("%s: %q %v, want %q %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
	if _, ok := merge3Text([]byte("a\x00"), []byte("b\x00"), []byte("c\x00")); ok {
		t.Errorf("binary files merged")
	}
}
