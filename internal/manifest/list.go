package manifest

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync/atomic"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/lazyre"
	"github.com/kmend/kmend/internal/parallel"
	"github.com/kmend/kmend/internal/yamledit"
)

// A snapshot of a cluster (kubectl get -o yaml) is one List document whose
// items are mostly Pods and ReplicaSets that another item controls: read
// only (DropControlled), they are dropped anyway. readList drops them
// without building their trees. It cuts the List's items apart as text,
// parses of each item only its head (apiVersion, kind, metadata) to learn
// its UID and controller, and parses in full, in parallel, only the items
// that are kept. The result is the one the general path gives,
// WithoutControlled(objects of the decoded file), object for object: every
// step that cannot prove this falls back (ok is false, or the item is
// parsed in full). One difference is by design: a syntax error after the
// head of an item that is dropped is not seen, where the general path
// refuses the whole file. The last item is always parsed in full, so a
// snapshot cut short is still refused.
//
// Why cutting text is safe: in a block sequence at indentation n, an item
// starts with "- " at column n, and every other line of the item that is
// not blank is indented by more than n, except a continuation line of a
// quoted scalar or a flow collection, which a cut there would leave
// unterminated, so the item fails to parse and the whole file takes the
// general path. A line at column n+2 is likewise a key of the item's
// mapping or inside such a scalar: a head cut before one is either whole
// top-level entries or a parse error. Comments, CR line breaks, anchors
// and templates are left to the general path.

// listItem is one item of a List, as text.
type listItem struct {
	start, end int // data[start:end], from its "- " to the next item
	line       int // 1-based line of its "- "
	head       int // end of its head (apiVersion, kind, metadata), or 0
}

// minListItems: files with fewer items take the general path, where the
// saving would not pay for the second look at their heads.
const minListItems = 8

// readList returns the objects of data, a snapshot List at path, that no
// other object of the file controls, of the kinds kinds accepts (all when
// it is nil); ok is false when data is not a List
// this path can read exactly, and the caller must use the general path.
func readList(path string, data []byte, kinds func(apiVersion, kind string) bool) (objs []Object, ok bool) {
	objs, _, ok = readListItems(path, data, kinds)
	return objs, ok
}

// readListItems is readList; it also returns the items dropped without
// being parsed in full, for tests.
func readListItems(path string, data []byte, kinds func(apiVersion, kind string) bool) (objs []Object, unparsed []listItem, ok bool) {
	// Templates and aliases (which yamledit.Parse bounds) are for the
	// general path.
	if bytes.Contains(data, []byte("{{")) || bytes.IndexByte(data, '*') >= 0 {
		return nil, nil, false
	}
	items, ind, ok := splitList(data)
	if !ok || len(items) < minListItems {
		return nil, nil, false
	}
	// Pass 1: the heads, for every item's reference and controller.
	type head struct {
		ref        finding.ObjectRef
		object     bool   // ObjectRefOf succeeded
		controller string // controllerUID
		full       *yaml.Node
		failed     bool
	}
	heads := make([]head, len(items))
	parallel.Each(len(items), func(i int) {
		it := items[i]
		h := &heads[i]
		// The last item is parsed in full: a file cut short ends in it.
		if it.head > 0 && i < len(items)-1 {
			if f, ok := scanHead(data[it.start:it.head], ind+2); ok {
				h.ref.APIVersion, h.ref.Kind, h.ref.UID, h.object, h.controller = f.apiVersion, f.kind, f.uid, f.object, f.controller
				return
			}
			// The parser reads the head of an item that may be dropped:
			// one with owner references (a key written with escapes
			// would have a '\\'), or one of a kind left out.
			if kinds != nil || mayHaveOwners(data[it.start:it.head]) {
				if n, err := parseItem(data[it.start:it.head], ind, it.line); err == nil && hasKeys(n, "apiVersion", "kind", "metadata") {
					h.ref, h.object = ObjectRefOf(yaml.NewRNode(n))
					h.controller = controllerUID(yaml.NewRNode(n))
					return
				}
			}
		}
		n, err := parseItem(data[it.start:it.end], ind, it.line)
		if err != nil {
			h.failed = true
			return
		}
		h.full = n
		if n.Kind == yaml.MappingNode {
			h.ref, h.object = ObjectRefOf(yaml.NewRNode(n))
			h.controller = controllerUID(yaml.NewRNode(n))
		}
	}, nil)
	uids := make(map[string]bool, len(items))
	for _, h := range heads {
		if h.failed {
			return nil, nil, false
		}
		if h.object && h.ref.UID != "" {
			uids[h.ref.UID] = true
		}
	}
	// Pass 2: the items kept, in full. (A List is expanded, whatever its
	// controller: its items are the objects.)
	keep := func(h head) bool {
		switch {
		case !h.object || strings.HasSuffix(h.ref.Kind, "List"):
			return true
		case h.controller != "" && uids[h.controller]:
			return false
		}
		return kinds == nil || kinds(h.ref.APIVersion, h.ref.Kind)
	}
	var failed atomic.Bool
	parallel.Each(len(items), func(i int) {
		h := &heads[i]
		if h.full != nil || !keep(*h) {
			return
		}
		n, err := parseItem(data[items[i].start:items[i].end], ind, items[i].line)
		if err != nil {
			failed.Store(true)
			return
		}
		h.full = n
	}, nil)
	if failed.Load() {
		return nil, nil, false
	}
	// The List's document is document 0: splitList saw one only.
	f, d := &yamledit.File{Path: path}, &yamledit.Doc{Index: 0, Line: 1}
	for i, h := range heads {
		switch {
		case h.full == nil:
			unparsed = append(unparsed, items[i])
		case keep(h):
			objs = object(objs, f, d, yaml.NewRNode(h.full), []string{"items", strconv.Itoa(i)})
		}
	}
	return objs, unparsed, true
}

// mayHaveOwners says whether an item's head may hold owner references.
func mayHaveOwners(head []byte) bool {
	return bytes.Contains(head, []byte("ownerReferences")) || bytes.IndexByte(head, '\\') >= 0
}

// hasKeys says whether mapping n has every key.
func hasKeys(n *yaml.Node, keys ...string) bool {
	for _, k := range keys {
		if field(n, k) == nil {
			return false
		}
	}
	return true
}

// parseItem parses one item's text (from its "- "), turned into a mapping
// indented as the item's was, and moves its lines to where they are in
// the file. It returns the item's root node.
func parseItem(text []byte, ind, line int) (n *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil { // yaml.v3 panics on some inputs
			n, err = nil, errInternal
		}
	}()
	b := make([]byte, len(text))
	copy(b, text)
	b[ind] = ' ' // "- " becomes "  ": the item's mapping keeps its columns
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) != 1 {
		return nil, errInternal
	}
	shiftLines(doc.Content[0], line-1)
	return doc.Content[0], nil
}

var errInternal = errors.New("a List item does not decode on its own")

// decodeDocs decodes every document of data.
func decodeDocs(data []byte) (docs []*yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			docs, err = nil, errInternal
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); errors.Is(err, io.EOF) {
			return docs, nil
		} else if err != nil {
			return nil, err
		}
		docs = append(docs, &n)
	}
}

func shiftLines(n *yaml.Node, by int) {
	n.Line += by
	for _, c := range n.Content {
		shiftLines(c, by)
	}
}

// splitList cuts data, a file holding one List document written as
// kubectl writes it (a block mapping at column 0 with a key "items:" whose
// block sequence starts on the next line), into its items. ind is the
// column of the items' "- ". ok is false for anything else.
func splitList(data []byte) (items []listItem, ind int, ok bool) {
	if bytes.IndexByte(data, '\r') >= 0 || bytes.HasPrefix(data, []byte("%")) {
		return nil, 0, false
	}
	// Find "items:" alone on a line at column 0.
	at, line := -1, 1
	for off := 0; off < len(data); {
		end := lineEnd(data, off)
		if string(data[off:end]) == "items:" {
			at = off
			break
		}
		off = end + 1
		line++
	}
	if at < 0 {
		return nil, 0, false
	}
	headerEnd := lineEnd(data, at) + 1
	// The items region: its first line fixes the indentation of "- ".
	off, line := headerEnd, line+1
	if off >= len(data) {
		return nil, 0, false
	}
	first := data[off:lineEnd(data, off)]
	ind = len(first) - len(bytes.TrimLeft(first, " "))
	if !bytes.HasPrefix(first[ind:], []byte("- ")) {
		return nil, 0, false
	}
	prefix := append(bytes.Repeat([]byte(" "), ind), '-', ' ')
	keyInd := ind + 2
	var cur *listItem
	var fields [3]bool // apiVersion, kind, metadata seen in cur
	for off < len(data) {
		end := lineEnd(data, off)
		l := data[off:end]
		if bytes.Contains(l, []byte("#")) && isComment(l) {
			return nil, 0, false
		}
		indent := len(l) - len(bytes.TrimLeft(l, " "))
		switch {
		case indent == len(l): // blank
		case bytes.HasPrefix(l, prefix):
			if cur != nil {
				cur.end = off
				items = append(items, *cur)
			}
			// Every item must be a mapping whose first key is on its
			// first line ("- apiVersion: v1"): parsed alone, as "  "
			// and the rest, it is then parsed as it is in the List.
			if !simpleKey.Match(l[keyInd:]) {
				return nil, 0, false
			}
			cur = &listItem{start: off, line: line}
			fields = [3]bool{}
			fields = headKey(l[keyInd:], fields)
		case indent < keyInd:
			// The end of the items region (a key of the List, "---").
			if cur == nil || indent > ind {
				return nil, 0, false
			}
			cur.end = off
			items = append(items, *cur)
			cur = nil
			if !listTail(data, headerEnd, off) {
				return nil, 0, false
			}
			return items, ind, true
		case indent == keyInd:
			if cur.head == 0 && fields == [3]bool{true, true, true} {
				cur.head = off
			}
			fields = headKey(l[keyInd:], fields)
		}
		off = end + 1
		line++
	}
	if cur == nil || !listTail(data, headerEnd, len(data)) {
		return nil, 0, false
	}
	cur.end = len(data)
	return append(items, *cur), ind, true
}

// simpleKey matches a line that starts with a plain key and its ": ".
var simpleKey = lazyre.New(`^[A-Za-z0-9][A-Za-z0-9_./-]*:( |$)`)

// headKey marks which of apiVersion, kind and metadata l, a line at the
// item's key indentation, is the key of.
func headKey(l []byte, seen [3]bool) [3]bool {
	for i, k := range []string{"apiVersion:", "kind:", "metadata:"} {
		if bytes.HasPrefix(l, []byte(k)) {
			seen[i] = true
		}
	}
	return seen
}

// isComment says whether line l holds a YAML comment: a '#' at its start
// or after a space. (It may also be inside a quoted scalar; the general
// path decides then.)
func isComment(l []byte) bool {
	for i, c := range l {
		if c == '#' && (i == 0 || l[i-1] == ' ' || l[i-1] == '\t') {
			return true
		}
	}
	return false
}

// listTail checks that what surrounds the items region (data[:headerEnd]
// and data[tail:]) is one document, a List: a mapping with an apiVersion
// and a kind ending in "List", whose first "items" key is the one split.
func listTail(data []byte, headerEnd, tail int) bool {
	rest := make([]byte, 0, headerEnd+len(data)-tail)
	rest = append(rest, data[:headerEnd]...)
	rest = append(rest, data[tail:]...)
	docs, err := decodeDocs(rest)
	if err != nil || len(docs) != 1 || len(docs[0].Content) != 1 {
		return false
	}
	root := docs[0].Content[0]
	ref, ok := ObjectRefOf(yaml.NewRNode(root))
	items := field(root, "items")
	return ok && strings.HasSuffix(ref.Kind, "List") && items != nil && items.Kind == yaml.ScalarNode && items.Tag == yaml.NodeTagNull
}

func lineEnd(data []byte, off int) int {
	if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
		return off + i
	}
	return len(data)
}
