package manifest

import (
	"bytes"
	"strings"
)

// headFacts is what dropping an item needs to know of it, as ObjectRefOf
// and controllerUID read it.
type headFacts struct {
	object                bool   // it has an apiVersion and a kind
	apiVersion, kind, uid string // its apiVersion, kind and metadata.uid
	controller            string // the uid of its first controlling owner reference
}

// headLine is one line of a head in the plain form scanHead reads.
type headLine struct {
	n     int    // indentation of the key (of the "- " for an entry)
	seq   bool   // a sequence entry: "- ..."
	key   []byte // nil for an entry that is a value
	val   []byte // nil for "key:"
	isKey bool
}

// scanHead reads the facts of an item's head, text from its "- " (at
// column keyInd-2) to the end of its head, without a YAML parser, when
// every line of it is in the plain form kubectl writes: "key: value",
// "key:", "- key: value" or "- value", with values that are plain,
// quoted on one line, {} or [], and indentation that only grows after a
// "key:" or into an entry. ok is false for anything else, and the head is
// parsed. FuzzReadList checks it against the parser.
func scanHead(text []byte, keyInd int) (f headFacts, ok bool) {
	for _, c := range text {
		if (c < ' ' && c != '\n') || c >= 0x7f { // printable ASCII only
			return f, false
		}
	}
	lines, ok := headLines(text, keyInd)
	if !ok {
		return f, false
	}
	// The item's keys.
	var apiVersion, kind *string
	meta := -1
	for i, l := range lines {
		if l.n != keyInd || l.seq {
			continue
		}
		switch {
		case string(l.key) == "apiVersion" && apiVersion == nil:
			v := scalarValue(l.val)
			apiVersion = &v
		case string(l.key) == "kind" && kind == nil:
			v := scalarValue(l.val)
			kind = &v
		case string(l.key) == "metadata" && meta < 0:
			meta = i
		}
	}
	if apiVersion == nil || kind == nil || meta < 0 {
		return f, false // the parser decides what such a head is
	}
	f.object, f.apiVersion, f.kind = *apiVersion != "" && *kind != "", *apiVersion, *kind
	if lines[meta].val != nil {
		return f, string(lines[meta].val) == "{}" // no uid, no owners
	}
	// metadata's keys, up to the item's next key.
	block := lines[meta+1:]
	for i, l := range block {
		if l.n == keyInd {
			if l.seq {
				return f, false // a sequence: let the parser say
			}
			block = block[:i]
			break
		}
	}
	if len(block) > 0 && block[0].n != keyInd+2 {
		return f, false // metadata's keys are two columns in (headLines keeps them there)
	}
	refs := -1
	uidSeen := false
	for i, l := range block {
		if l.n != keyInd+2 || l.seq {
			continue
		}
		switch {
		case string(l.key) == "uid" && !uidSeen:
			uidSeen, f.uid = true, rawValue(l.val)
		case string(l.key) == "ownerReferences" && refs < 0:
			refs = i
		}
	}
	if refs < 0 {
		return f, true
	}
	if v := block[refs].val; v != nil {
		return f, string(v) == "[]"
	}
	// The references: entries at the indentation of the first "- ", each a
	// mapping of the key on its line and the keys two columns in.
	entries := block[refs+1:]
	for i, l := range entries {
		if l.n == keyInd+2 && !l.seq {
			entries = entries[:i]
			break
		}
	}
	if len(entries) == 0 {
		return f, true // ownerReferences: null
	}
	at := entries[0].n
	if !entries[0].seq {
		return f, false
	}
	for i := 0; i < len(entries); {
		e := entries[i]
		if !e.seq || e.n != at {
			return f, false
		}
		ctrl, uid := "", ""
		ctrlSeen, uidSeen := false, false
		take := func(l headLine) {
			switch {
			case string(l.key) == "controller" && !ctrlSeen:
				ctrlSeen, ctrl = true, rawValue(l.val)
			case string(l.key) == "uid" && !uidSeen:
				uidSeen, uid = true, rawValue(l.val)
			}
		}
		mapping := e.isKey
		if mapping {
			take(e)
		}
		for i++; i < len(entries) && !(entries[i].n == at && entries[i].seq); i++ {
			l := entries[i]
			switch {
			case l.n < at+2 || !mapping:
				return f, false
			case l.n == at+2 && !l.seq:
				take(l)
			}
		}
		if mapping && ctrl == "true" {
			f.controller = uid
			return f, true
		}
	}
	return f, true
}

// headLines splits a head into lines and checks the form scanHead reads.
func headLines(text []byte, keyInd int) ([]headLine, bool) {
	var out []headLine
	type level struct {
		n      int
		seq    bool     // a sequence's entries, not a mapping's keys
		last   headLine // the last line at this level
		lastAt int      // its index in out
	}
	levels := []level{{n: keyInd}} // the open blocks
	first := true
	for len(text) > 0 {
		var l []byte
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			l, text = text[:i], text[i+1:]
		} else {
			l, text = text, nil
		}
		n := len(l) - len(bytes.TrimLeft(l, " "))
		r := l[n:]
		if first { // the item's "- " stands for its indentation
			n, r, first = keyInd, l[keyInd:], false
		}
		if len(r) == 0 {
			continue
		}
		h := headLine{n: n}
		if bytes.HasPrefix(r, []byte("- ")) {
			h.seq, r = true, r[2:]
		}
		var val []byte
		h.key, val, h.isKey = keyLine(r)
		switch {
		case h.isKey && (val == nil || safeValue(val)):
			h.val = val
		case !h.isKey && h.seq && safeValue(r):
			h.val = r
		default:
			return nil, false
		}
		// Indentation grows only under "key:", or into an entry's keys,
		// and comes back only to a level it left. A level holds entries
		// or keys, not both, except for the entries of a sequence written
		// at the indentation of its "key:".
		if len(out) > 0 {
			p := out[len(out)-1]
			if h.n > p.n {
				if !(p.isKey && p.val == nil) && !(p.seq && p.isKey && h.n == p.n+2 && !h.seq) {
					return nil, false
				}
				levels = append(levels, level{n: h.n, seq: h.seq})
			}
			for len(levels) > 1 && levels[len(levels)-1].n > h.n {
				levels = levels[:len(levels)-1]
			}
			lv := &levels[len(levels)-1]
			if lv.n != h.n {
				return nil, false
			}
			if lv.seq != h.seq && (lv.seq || !(lv.last.seq || lv.lastAt == len(out)-1 && lv.last.isKey && lv.last.val == nil)) {
				return nil, false
			}
			lv.last, lv.lastAt = h, len(out)
		} else {
			levels[0].last = h
		}
		out = append(out, h)
	}
	return out, true
}

// keyLine splits "key: value" or "key:", where key is plain
// ([A-Za-z0-9][A-Za-z0-9_./-]*); val is nil for "key:".
func keyLine(r []byte) (key, val []byte, ok bool) {
	n := 0
	for n < len(r) && (isAlnum(r[n]) || n > 0 && strings.IndexByte("_./-", r[n]) >= 0) {
		n++
	}
	if n == 0 || n == len(r) || r[n] != ':' {
		return nil, nil, false
	}
	rest := r[n+1:]
	if len(rest) == 0 {
		return r[:n], nil, true
	}
	if rest[0] != ' ' || len(rest) == 1 {
		return nil, nil, false
	}
	return r[:n], rest[1:], true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// safeValue says whether v is a value scanHead reads exactly: {} or [],
// a quoted scalar whole on its line without escapes, or a plain scalar
// that cannot be anything else.
func safeValue(v []byte) bool {
	if len(v) == 0 || v[len(v)-1] == ' ' {
		return false
	}
	switch s := string(v); {
	case s == "{}" || s == "[]":
		return true
	case v[0] == '"':
		in := v[1:]
		return len(v) >= 2 && v[len(v)-1] == '"' && bytes.IndexAny(in[:len(in)-1], "\"\\") < 0
	case v[0] == '\'':
		return len(v) >= 2 && v[len(v)-1] == '\'' && !bytes.Contains(bytes.ReplaceAll(v[1:len(v)-1], []byte("''"), nil), []byte("'"))
	case strings.ContainsRune("-?:,[]{}#&*!|>%@` ", rune(v[0])):
		return false
	default:
		return !bytes.Contains(v, []byte(": ")) && !bytes.Contains(v, []byte(" #")) && v[len(v)-1] != ':'
	}
}

// rawValue is a scalar's value as yaml.Node.Value holds it: quotes
// removed; "" for none, {} and [].
func rawValue(v []byte) string {
	switch {
	case v == nil, string(v) == "{}", string(v) == "[]":
		return ""
	case v[0] == '"':
		return string(v[1 : len(v)-1])
	case v[0] == '\'':
		return strings.ReplaceAll(string(v[1:len(v)-1]), "''", "'")
	}
	return string(v)
}

// scalarValue is rawValue read as GetMeta reads apiVersion and kind: a
// null is "".
func scalarValue(v []byte) string {
	switch s := string(v); s {
	case "~", "null", "Null", "NULL":
		return ""
	}
	return rawValue(v)
}
