package render

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxLength is the most characters GitHub accepts in a pull request's body
// or in a comment.
const MaxLength = 65536

// Length measures s the way GitHub's limit counts it, erring on the long
// side: GitHub counts characters, this counts UTF-16 code units (a
// character outside the Basic Multilingual Plane counts twice, as it does
// in a browser's textarea) and every line feed twice (GitHub may store line
// breaks as CRLF). Length(s) is never less than what GitHub counts, and
// Length(a+b) == Length(a)+Length(b).
func Length(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case r == '\n':
			n += 2
		case r > 0xFFFF:
			n += 2
		default:
			n++
		}
	}
	return n
}

// Most runes of a user-controlled value shown in a table cell or a heading;
// longer values are cut with an ellipsis. Patches and diffs are never cut.
const maxCell = 200

// esc makes a user-controlled string safe to place in Markdown text, in a
// table cell and inside raw HTML (<summary>): it cannot start markup, break
// out of a table cell or a comment, mention a user or span lines. Markdown
// punctuation becomes numeric character references, which CommonMark shows
// as the character but never treats as syntax; control characters, line
// breaks and bidirectional overrides become spaces; "@" is followed by a
// zero-width space so that GitHub does not notify anyone.
func esc(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '`':
			b.WriteString("&#96;")
		case '*':
			b.WriteString("&#42;")
		case '_':
			b.WriteString("&#95;")
		case '[':
			b.WriteString("&#91;")
		case ']':
			b.WriteString("&#93;")
		case '|':
			b.WriteString("&#124;")
		case '\\':
			b.WriteString("&#92;")
		case '~':
			b.WriteString("&#126;")
		case '#':
			b.WriteString("&#35;")
		case '!':
			b.WriteString("&#33;")
		case '$':
			b.WriteString("&#36;") // GitHub's math: $…$
		case '@':
			b.WriteString("@&#8203;")
		case utf8.RuneError:
			b.WriteRune(utf8.RuneError)
		default:
			if invisible(r) {
				b.WriteByte(' ')
			} else {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// invisible reports runes that must not reach Markdown as they are: control
// characters (line breaks included), line and paragraph separators, and
// the bidirectional formatting characters of "Trojan Source".
func invisible(r rune) bool {
	switch {
	case unicode.IsControl(r), unicode.Is(unicode.Zl, r), unicode.Is(unicode.Zp, r):
		return true
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x200E, r == 0x200F, r == 0x061C:
		return true
	}
	return false
}

// cell is esc for a value that may be long: cut at maxCell runes.
func cell(s string) string { return esc(cut(s, maxCell)) }

// code shows a user-controlled value in monospace: <code> with the value
// escaped (a Markdown code span cannot be escaped and breaks tables).
func code(s string) string { return "<code>" + cell(s) + "</code>" }

func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n-1 {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

// plain cleans a user-controlled string for a context without Markup (a
// pull request title): no line breaks, no control or bidi characters,
// spaces collapsed.
func plain(s string) string {
	s = strings.Map(func(r rune) rune {
		if invisible(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// fence wraps content in a fenced code block whose fence is longer than
// any run of backticks in content, so the content cannot close it. The
// block ends with a newline.
func fence(lang, content string) string {
	content = strings.TrimRight(content, "\n")
	n, run := 3, 0
	for i := 0; i < len(content); i++ {
		if content[i] == '`' {
			run++
			n = max(n, run+1)
		} else {
			run = 0
		}
	}
	f := strings.Repeat("`", n)
	return f + lang + "\n" + content + "\n" + f + "\n"
}

// fileLink shows file:line, linked to blobURL/file#Lline when blobURL is
// set. Each path segment is escaped for the URL; the text is escaped for
// Markdown.
func fileLink(blobURL, file string, line int) string {
	text := strings.TrimPrefix(file, "./")
	if line > 0 {
		text += ":" + itoa(line)
	}
	if blobURL == "" || file == "" {
		return cell(text)
	}
	segs := strings.Split(strings.TrimPrefix(strings.ReplaceAll(file, "\\", "/"), "./"), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	u := strings.TrimRight(blobURL, "/") + "/" + strings.Join(segs, "/")
	if line > 0 {
		u += "#L" + itoa(line)
	}
	// The URL is the caller's base plus escaped segments; angle brackets
	// keep Markdown from reading parentheses in it, and cannot occur in it.
	u = strings.NewReplacer("<", "%3C", ">", "%3E", " ", "%20", "\n", "", "\r", "").Replace(u)
	return "[" + cell(text) + "](<" + u + ">)"
}

// isURL reports whether s is an http(s) URL that can be shown as an
// autolink.
func isURL(s string) bool {
	if strings.ContainsAny(s, "<> \t\r\n\"`") {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
