package main

import "testing"

func TestDiffSize(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		a, b                    []string
		added, removed, changed int
	}{
		{"same", []string{"a", "b"}, []string{"a", "b"}, 0, 0, 0},
		{"insert", []string{"a", "c"}, []string{"a", "b", "c"}, 1, 0, 1},
		{"replace", []string{"a", "x: true", "c"}, []string{"a", "x: false", "c"}, 1, 1, 1},
		{"replace and insert", []string{"a", "x: true", "c"}, []string{"a", "x: false", "y: 1", "c"}, 2, 1, 2},
		{"two hunks", []string{"a", "b", "c", "d"}, []string{"a", "B", "b", "c", "D"}, 2, 1, 2},
		{"all new", nil, []string{"a", "b"}, 2, 0, 2},
	} {
		ad, rm, ch := diffSize(tc.a, tc.b)
		if ad != tc.added || rm != tc.removed || ch != tc.changed {
			t.Errorf("%s: got +%d -%d ~%d, want +%d -%d ~%d", tc.name, ad, rm, ch, tc.added, tc.removed, tc.changed)
		}
	}
}

func TestFormattingLost(t *testing.T) {
	a := lines([]byte("# head\n\nkey: 1 # inline\n  # indented\n\n"))
	if got := formattingLost(a, a); got != 0 {
		t.Errorf("same file: lost %d", got)
	}
	b := lines([]byte("# head\nkey: 2 # inline\n  # indented\n"))
	if got := formattingLost(a, b); got != 2 { // both blank lines
		t.Errorf("blank lines dropped: lost %d, want 2", got)
	}
	crlf := lines([]byte("# head\r\n\r\nkey: 1\r\n"))
	lf := lines([]byte("# head\n\nkey: 1\n"))
	if got := formattingLost(crlf, lf); got != 2 {
		t.Errorf("CRLF turned LF: lost %d, want 2", got)
	}
	moved := lines([]byte("key: 1\n# note\n"))
	if got := formattingLost(lines([]byte("# note\nkey: 1\n")), moved); got != 0 {
		t.Errorf("moved comment: lost %d, want 0", got)
	}
}
