package githubfake

import (
	"bytes"
	"sort"
)

// merge3Text merges two edits of a text file line by line, as git's merge
// does: changes to different lines combine, changes to the same or adjacent
// lines conflict unless they are identical. Binary files always conflict.
func merge3Text(base, ours, theirs []byte) ([]byte, bool) {
	if bytes.IndexByte(base, 0) >= 0 || bytes.IndexByte(ours, 0) >= 0 || bytes.IndexByte(theirs, 0) >= 0 {
		return nil, false
	}
	b := splitLines(base)
	a := lineHunks(b, splitLines(ours))
	c := lineHunks(b, splitLines(theirs))
	all := append(append([]hunk(nil), a...), c...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].start < all[j].start })
	var merged []hunk
	for _, h := range all {
		if n := len(merged); n > 0 {
			last := merged[n-1]
			if h.start <= last.end && last.start <= h.end {
				if h.same(last) {
					continue
				}
				return nil, false
			}
		}
		merged = append(merged, h)
	}
	var out bytes.Buffer
	pos := 0
	for _, h := range merged {
		for _, l := range b[pos:h.start] {
			out.WriteString(l)
		}
		for _, l := range h.lines {
			out.WriteString(l)
		}
		pos = h.end
	}
	for _, l := range b[pos:] {
		out.WriteString(l)
	}
	return out.Bytes(), true
}

// hunk replaces base lines [start, end) with lines.
type hunk struct {
	start, end int
	lines      []string
}

func (h hunk) same(o hunk) bool {
	if h.start != o.start || h.end != o.end || len(h.lines) != len(o.lines) {
		return false
	}
	for i := range h.lines {
		if h.lines[i] != o.lines[i] {
			return false
		}
	}
	return true
}

func splitLines(b []byte) []string {
	var out []string
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			out = append(out, string(b))
			break
		}
		out = append(out, string(b[:i+1]))
		b = b[i+1:]
	}
	return out
}

// lineHunks lists the changes from base to other: common prefix and suffix
// first, then a longest common subsequence of what is left.
func lineHunks(base, other []string) []hunk {
	pre := 0
	for pre < len(base) && pre < len(other) && base[pre] == other[pre] {
		pre++
	}
	suf := 0
	for suf < len(base)-pre && suf < len(other)-pre && base[len(base)-1-suf] == other[len(other)-1-suf] {
		suf++
	}
	x := base[pre : len(base)-suf]
	y := other[pre : len(other)-suf]
	// lcs[i][j] is the LCS length of x[i:] and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var hunks []hunk
	var cur *hunk
	flush := func() {
		if cur != nil {
			hunks = append(hunks, *cur)
			cur = nil
		}
	}
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			flush()
			i++
			j++
		case j < len(y) && (i == len(x) || lcs[i][j+1] >= lcs[i+1][j]):
			if cur == nil {
				cur = &hunk{start: pre + i, end: pre + i}
			}
			cur.lines = append(cur.lines, y[j])
			j++
		default:
			if cur == nil {
				cur = &hunk{start: pre + i, end: pre + i}
			}
			i++
			cur.end = pre + i
		}
	}
	flush()
	return hunks
}
