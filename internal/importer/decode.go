package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/kmend/kmend/internal/finding"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// doc is one document of the input, as JSON.
type doc struct {
	index int
	line  int // 1-based start line in YAML input; 0 for JSON
	raw   []byte
}

// docError is a YAML document that could not be decoded; the documents
// before it were.
type docError struct {
	index, line int
	err         error
}

func (e *docError) Error() string { return fmt.Sprintf("document %d: %v", e.index, e.err) }

func unwrapDoc(err error) error {
	var de *docError
	if errors.As(err, &de) {
		return de.err
	}
	return err
}

// decodeDocs splits data into documents and turns each into JSON. Input
// that starts with { or [ is read as JSON (one document); anything else, or
// JSON that does not parse, as a YAML stream. YAML stops at the first
// document that does not parse: the documents before it are returned with
// the error.
func decodeDocs(data []byte) ([]doc, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		if json.Valid(trimmed) {
			return []doc{{index: 0, raw: trimmed}}, nil
		}
		docs, err := decodeYAML(data)
		if err != nil {
			// Neither: the JSON error says more about a file that looks
			// like JSON.
			var v any
			jerr := json.Unmarshal(trimmed, &v)
			return nil, fmt.Errorf("invalid JSON: %w", jerr)
		}
		return docs, nil
	}
	return decodeYAML(data)
}

func decodeYAML(data []byte) (docs []doc, err error) {
	index := 0
	defer func() {
		// yaml.v3 reports errors by panicking internally; one that escapes
		// it is an error too.
		if r := recover(); r != nil {
			err = &docError{index: index, err: fmt.Errorf("yaml: internal parser error: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for ; ; index++ {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if errors.Is(err, io.EOF) {
				return docs, nil
			}
			return docs, &docError{index: index, err: err}
		}
		if len(n.Content) == 0 || isNull(n.Content[0]) {
			continue // an empty document
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return docs, &docError{index: index, line: n.Content[0].Line, err: err}
		}
		v, err := jsonable(v)
		if err != nil {
			return docs, &docError{index: index, line: n.Content[0].Line, err: err}
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return docs, &docError{index: index, line: n.Content[0].Line, err: err}
		}
		docs = append(docs, doc{index: index, line: n.Content[0].Line, raw: raw})
	}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null" && n.Style == 0
}

// jsonable turns what yaml.v3 decodes into values encoding/json can write:
// map keys become strings, timestamps RFC 3339 text, and non-finite floats
// their YAML spelling.
func jsonable(v any) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			j, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			t[k] = j
		}
		return t, nil
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			j, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			out[fmt.Sprint(k)] = j
		}
		return out, nil
	case []any:
		for i, e := range t {
			j, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			t[i] = j
		}
		return t, nil
	case time.Time:
		return t.Format(time.RFC3339Nano), nil
	case float64:
		if math.IsInf(t, 0) || math.IsNaN(t) {
			return strconv.FormatFloat(t, 'g', -1, 64), nil
		}
	}
	return v, nil
}

// item is one object of a document: the document itself, or an element of
// its items when it is a List.
type item struct {
	loc    string // "" or items[i]
	raw    []byte
	fields map[string]json.RawMessage // nil when raw is not an object
	err    error                      // why fields is nil
}

// flatten returns the objects of raw: the elements of items for a List
// (kind List, or any kind ending in List that has items), else raw itself.
func flatten(raw []byte, loc string) []item {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return []item{{loc: loc, raw: raw, err: errors.New("not an object")}}
	}
	kind := stringField(fields, "kind")
	itemsRaw, hasItems := fields["items"]
	if !hasItems || !strings.HasSuffix(kind, "List") {
		return []item{{loc: loc, raw: raw, fields: fields}}
	}
	var items []json.RawMessage
	if err := json.Unmarshal(itemsRaw, &items); err != nil {
		return []item{{loc: finding.JoinPath(loc, "items"), raw: itemsRaw, err: errors.New("items is not a list")}}
	}
	var out []item
	for i, it := range items {
		out = append(out, flatten(it, finding.JoinPath(loc, fmt.Sprintf("items[%d]", i)))...)
	}
	return out
}

// stringField returns fields[k] when it is a JSON string, else "".
func stringField(fields map[string]json.RawMessage, k string) string {
	var s string
	if raw, ok := fields[k]; ok {
		_ = json.Unmarshal(raw, &s)
	}
	return s
}

// classify says which format an object is in.
func classify(fields map[string]json.RawMessage) Format {
	if fields == nil {
		return FormatUnknown
	}
	group, _, _ := strings.Cut(stringField(fields, "apiVersion"), "/")
	kind := stringField(fields, "kind")
	switch {
	case group == "wgpolicyk8s.io" && (kind == "PolicyReport" || kind == "ClusterPolicyReport"):
		return FormatPolicyReport
	case group == "openreports.io" && (kind == "Report" || kind == "ClusterReport" || kind == "PolicyReport" || kind == "ClusterPolicyReport"):
		return FormatOpenReports
	case group == "aquasecurity.github.io" && (kind == "ConfigAuditReport" || kind == "ClusterConfigAuditReport"):
		return FormatTrivyOperator
	case group == "" && kind == "" && isKubescape(fields):
		return FormatKubescape
	}
	return FormatUnknown
}

// isKubescape recognises kubescape's JSON results: summaryDetails, or
// results whose first element has a resourceID.
func isKubescape(fields map[string]json.RawMessage) bool {
	if _, ok := fields["summaryDetails"]; ok {
		if _, ok := fields["results"]; ok {
			return true
		}
	}
	var results []struct {
		ResourceID *string `json:"resourceID"`
	}
	if raw, ok := fields["results"]; ok && json.Unmarshal(raw, &results) == nil {
		return len(results) > 0 && results[0].ResourceID != nil
	}
	return false
}

// str is a string that also accepts a JSON number or boolean (YAML writers
// leave label values, versions and the like unquoted) and null.
type str string

func (s *str) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*s = ""
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = str(v)
	case b[0] == '{' || b[0] == '[':
		return fmt.Errorf("want a string, got %s", describe(b))
	default:
		*s = str(b) // a number or a boolean, as written
	}
	return nil
}

func (s str) String() string { return strings.TrimSpace(string(s)) }

// describe names a JSON value's type for errors.
func describe(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// strMap is a map of strings that accepts scalar values of any type.
type strMap map[string]str

// entryError makes json's type errors read in the report's terms:
// "resources: want a list, got a string".
func entryError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			return fmt.Errorf("want %s, got %s", jsonKind(te.Type.Kind().String()), jsonValue(te.Value))
		}
		return fmt.Errorf("%s: want %s, got %s", field, jsonKind(te.Type.Kind().String()), jsonValue(te.Value))
	}
	return err
}

// jsonValue names the JSON value of an UnmarshalTypeError.
func jsonValue(v string) string {
	switch v {
	case "array":
		return "a list"
	case "object":
		return "an object"
	case "bool":
		return "a boolean"
	case "string":
		return "a string"
	}
	if strings.HasPrefix(v, "number") {
		return "a number"
	}
	return v
}

func jsonKind(goKind string) string {
	switch goKind {
	case "slice", "array":
		return "a list"
	case "struct", "map":
		return "an object"
	case "bool":
		return "true or false"
	case "string":
		return "a string"
	case "ptr":
		return "a value"
	}
	return "a number"
}
