package render

import (
	"regexp"
	"strings"
	"testing"
)

// checkMarkdown checks every part of r: within the limit, fences
// balanced, tables well formed, no HTML but kmend's own outside code.
func checkMarkdown(t *testing.T, r Rendered) {
	t.Helper()
	checkMarkdownLimit(t, r, MaxLength)
}

func checkMarkdownLimit(t *testing.T, r Rendered, limit int) {
	t.Helper()
	if strings.ContainsAny(r.Title, "\n\r") || len([]rune(r.Title)) > maxTitle {
		t.Errorf("bad title %q", r.Title)
	}
	parts := append([]string{r.Body}, r.Comments...)
	for i, p := range parts {
		if n := Length(p); n > limit {
			t.Errorf("part %d is %d long, over %d", i, n, limit)
		}
		if err := fencesBalanced(p); err != nil {
			t.Errorf("part %d: %v", i, err)
		}
		if err := tablesWellFormed(p); err != nil {
			t.Errorf("part %d: %v", i, err)
		}
		if err := onlyOwnHTML(p); err != nil {
			t.Errorf("part %d: %v", i, err)
		}
		if err := detailsBalanced(p); err != nil {
			t.Errorf("part %d: %v", i, err)
		}
	}
}

// fenceOf returns the fence of a line that opens or closes a fenced code
// block: its backticks, and the rest of the line.
func fenceOf(line string) (int, string) {
	trimmed := strings.TrimLeft(line, " ")
	if len(line)-len(trimmed) > 3 {
		return 0, ""
	}
	n := 0
	for n < len(trimmed) && trimmed[n] == '`' {
		n++
	}
	if n < 3 {
		return 0, ""
	}
	return n, trimmed[n:]
}

// codeBlocks splits a Markdown text into the lines outside fenced code
// blocks and the blocks (info string, newline, contents), as CommonMark
// reads backtick fences;
// an unclosed block is an error.
func codeBlocks(s string) (outside []string, blocks []string, err error) {
	open := 0
	var cur strings.Builder
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSuffix(l, "\r")
		n, rest := fenceOf(l)
		switch {
		case open == 0 && n > 0 && !strings.Contains(rest, "`"):
			open = n
			cur.Reset()
			cur.WriteString(strings.TrimSpace(rest) + "\n")
		case open > 0 && n >= open && strings.TrimSpace(rest) == "":
			open = 0
			blocks = append(blocks, cur.String())
		case open > 0:
			cur.WriteString(l + "\n")
		default:
			outside = append(outside, l)
		}
	}
	if open > 0 {
		return nil, nil, errUnclosed
	}
	return outside, blocks, nil
}

type testError string

func (e testError) Error() string { return string(e) }

const errUnclosed = testError("a fenced code block is not closed")

func fencesBalanced(s string) error {
	_, _, err := codeBlocks(s)
	return err
}

// tablesWellFormed checks that every table row has the cells of its
// header: an unescaped | in a value would add one.
func tablesWellFormed(s string) error {
	outside, _, err := codeBlocks(s)
	if err != nil {
		return err
	}
	cols := 0
	for i, l := range outside {
		if !strings.HasPrefix(l, "|") {
			cols = 0
			continue
		}
		n := strings.Count(strings.ReplaceAll(l, `\|`, ""), "|") - 1
		if cols == 0 {
			cols = n
			if i+1 >= len(outside) || !strings.HasPrefix(outside[i+1], "| ---") {
				return testError("a table without a delimiter row: " + l)
			}
			continue
		}
		if n != cols && !strings.Contains(l, "too large to show") {
			return testError("a table row with " + itoa(n) + " cells, want " + itoa(cols) + ": " + l)
		}
	}
	return nil
}

var tagRE = regexp.MustCompile(`<(/?)([A-Za-z][A-Za-z0-9-]*|!--)`)

// onlyOwnHTML checks that the HTML outside code blocks is kmend's own:
// details, summary, code, br, sub and its comments.
func onlyOwnHTML(s string) error {
	outside, _, err := codeBlocks(s)
	if err != nil {
		return err
	}
	for _, l := range outside {
		for _, m := range tagRE.FindAllStringSubmatch(l, -1) {
			switch m[2] {
			case "details", "summary", "code", "br", "sub":
			case "!--":
				if !strings.HasPrefix(l, "<!-- kmend:metadata {") && !strings.HasPrefix(l, "<!-- kmend:continued ") {
					return testError("an HTML comment that is not kmend's: " + l)
				}
				if strings.Count(l, "-->") != 1 || !strings.HasSuffix(l, "-->") {
					return testError("kmend's comment does not end the line once: " + l)
				}
			default:
				if strings.HasPrefix(m[2], "http") {
					continue // an autolink <https://…>
				}
				return testError("HTML that is not kmend's: " + l)
			}
		}
	}
	return nil
}

// detailsBalanced checks <details> folds open and close in order.
func detailsBalanced(s string) error {
	outside, _, err := codeBlocks(s)
	if err != nil {
		return err
	}
	depth := 0
	for _, l := range outside {
		depth += strings.Count(l, "<details>") - strings.Count(l, "</details>")
		if depth < 0 || depth > 1 {
			return testError("<details> out of balance at: " + l)
		}
	}
	if depth != 0 {
		return testError("<details> not closed")
	}
	return nil
}

func TestCheckersCanFail(t *testing.T) {
	for name, bad := range map[string]string{
		"fence":   "```yaml\na: 1\n",
		"table":   "| a | b |\n| --- | --- |\n| 1 | 2 | 3 |\n",
		"html":    "hello <script>x</script>\n",
		"comment": "<!-- evil --> text\n",
		"details": "<details><summary>x</summary>\n\ntext\n",
	} {
		if fencesBalanced(bad) == nil && tablesWellFormed(bad) == nil && onlyOwnHTML(bad) == nil && detailsBalanced(bad) == nil {
			t.Errorf("%s: the checkers accept %q", name, bad)
		}
	}
	if _, blocks, err := codeBlocks("````\n```\n````\n"); err != nil || len(blocks) != 1 || blocks[0] != "\n```\n" {
		t.Errorf("a longer fence holds a shorter one: %q, %v", blocks, err)
	}
}
