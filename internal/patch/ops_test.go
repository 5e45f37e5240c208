package patch

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/kmend/kmend/internal/catalog"
)

// sameOps fails unless absoluteOpsOf gives what absoluteOps gives, ops or
// error, and what it says the ops give is what they give. It reports
// whether the ops were worked out without applying them one by one.
func sameOps(t *testing.T, doc []byte, base string, rel []catalog.Op) bool {
	t.Helper()
	want, wantErr := absoluteOps(doc, base, rel)
	got, applied, err := absoluteOpsOf(NewDoc(doc), base, rel)
	where := fmt.Sprintf("doc %s base %q ops %+v", doc, base, rel)
	if fmt.Sprint(err) != fmt.Sprint(wantErr) {
		t.Fatalf("%s: error %v, want %v", where, err, wantErr)
	}
	if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
		t.Fatalf("%s:\n got %s\nwant %s", where, g, w)
	}
	if applied == nil {
		return false
	}
	wantApplied, err := ApplyJSONPatch(doc, want)
	if err != nil || string(applied) != string(wantApplied) {
		t.Fatalf("%s: the ops give %s, not %s (%v)", where, applied, wantApplied, err)
	}
	return true
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAbsoluteOpsOfCases(t *testing.T) {
	doc := []byte(`{"metadata":{"name":"p","annotations":{"a/b":"x","c~d":"y"}},"spec":{"containers":[{"name":"a","env":[{"name":"A"}]},{"name":"b","securityContext":{"capabilities":{"add":["X"]},"seLinuxOptions":null,"n":1}}]}}`)
	for _, tc := range []struct {
		base string
		ops  string
	}{
		{"/spec/containers/0", `[{"op":"add","path":"/securityContext/capabilities/drop","value":["ALL"]},{"op":"replace","path":"/securityContext/runAsUser","value":10001},{"op":"remove","path":"/securityContext/privileged"}]`},
		{"/spec/containers/1", `[{"op":"add","path":"/securityContext/capabilities/drop","value":["ALL"]},{"op":"remove","path":"/securityContext/capabilities/add"}]`},
		{"/spec/containers/1", `[{"op":"replace","path":"/securityContext/capabilities","value":{"drop":["ALL"]}},{"op":"add","path":"/securityContext/capabilities/add","value":[]}]`},
		{"/spec/containers/1", `[{"op":"add","path":"/securityContext/seLinuxOptions/level","value":"s0"}]`},
		{"/spec/containers/1", `[{"op":"add","path":"/securityContext/n/x","value":1}]`},
		{"/spec/containers/1", `[{"op":"add","path":"/securityContext/capabilities/add/-","value":"Y"}]`},
		{"/spec/containers/0", `[{"op":"replace","path":"/env/0/value","value":"1"}]`},
		{"/spec/containers/0", `[{"op":"add","path":"/env/5/value","value":"1"}]`},
		{"/spec/containers/2", `[{"op":"add","path":"/securityContext","value":{}}]`},
		{"/spec/containers/x", `[{"op":"add","path":"/securityContext","value":{}}]`},
		{"/spec/containers", `[{"op":"add","path":"/-","value":{"name":"c"}}]`},
		{"", `[{"op":"add","path":"/metadata/namespace","value":"n"},{"op":"add","path":"/metadata/labels/app","value":"a"}]`},
		{"", `[{"op":"add","path":"/metadata/annotations/a~1b","value":"z"},{"op":"remove","path":"/metadata/annotations/c~0d"}]`},
		{"", `[{"op":"add","path":"/metadata//x","value":"z"}]`},
		{"", `[{"op":"add","path":"","value":{}}]`},
		{"", `[{"op":"add","path":"metadata","value":{}}]`},
		{"", `[{"op":"move","from":"/metadata/name","path":"/metadata/label"},{"op":"copy","from":"/metadata/label","path":"/x/y"}]`},
		{"", `[{"op":"test","path":"/metadata/name","value":"p"},{"op":"test","path":"/metadata/name","value":"q"}]`},
		{"", `[{"op":"frob","path":"/metadata/name","value":"p"}]`},
		{"/metadata", `[{"op":"add","path":"/name/x","value":1}]`},
		{"/metadata", `[{"op":"replace","path":"/labels","value":{"a":"b"}},{"op":"add","path":"/labels/c/d","value":null},{"op":"add","path":"/labels/c/d/e","value":1}]`},
	} {
		var rel []catalog.Op
		if err := json.Unmarshal([]byte(tc.ops), &rel); err != nil {
			t.Fatal(err)
		}
		sameOps(t, doc, tc.base, rel)
	}
	// A value JSON cannot hold, and a document that is not JSON.
	sameOps(t, doc, "", []catalog.Op{{Op: "add", Path: "/x", Value: map[any]any{1: 2}}})
	sameOps(t, []byte(`{"a":`), "", []catalog.Op{{Op: "add", Path: "/x", Value: 1}})
}

// TestAbsoluteOpsOfRandom compares absoluteOpsOf with absoluteOps on random
// documents and ops, most of which absoluteOpsOf works out itself.
func TestAbsoluteOpsOfRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	keys := []string{"a", "b", "c", "0", "-", "x/y", "t~u", ""}
	var value func(depth int) any
	value = func(depth int) any {
		switch n := rng.IntN(8); {
		case depth > 0 && n < 4:
			m := map[string]any{}
			for range rng.IntN(4) {
				m[keys[rng.IntN(len(keys)-3)]] = value(depth - 1)
			}
			return m
		case depth > 0 && n < 5:
			l := []any{}
			for range rng.IntN(3) {
				l = append(l, value(depth-1))
			}
			return l
		case n == 5:
			return nil
		case n == 6:
			return rng.IntN(3)
		default:
			return keys[rng.IntN(3)]
		}
	}
	// Pointers mostly name members of objects, which absoluteOpsOf works
	// out itself; the other keys take it op by op.
	pointerOf := func(n int) string {
		var tokens []string
		for range n {
			k := keys[rng.IntN(3)]
			if rng.IntN(10) == 0 {
				k = keys[rng.IntN(len(keys))]
			}
			tokens = append(tokens, k)
		}
		return pointer(tokens)
	}
	// objects lists the paths of the objects in v, where bases mostly are.
	var objects func(v any, path []string, out []string) []string
	objects = func(v any, path []string, out []string) []string {
		switch x := v.(type) {
		case map[string]any:
			out = append(out, pointer(path))
			for k, c := range x {
				out = objects(c, append(path[:len(path):len(path)], k), out)
			}
		case []any:
			for i, c := range x {
				out = objects(c, append(path[:len(path):len(path)], fmt.Sprint(i)), out)
			}
		}
		return out
	}
	ops := []string{"add", "add", "add", "add", "replace", "replace", "remove", "remove", "move", "copy", "test"}
	planned := 0
	const n = 20000
	for range n {
		root := value(3)
		if _, ok := root.(map[string]any); !ok {
			root = map[string]any{"a": root}
		}
		doc, err := json.Marshal(root)
		if err != nil {
			t.Fatal(err)
		}
		base := pointerOf(rng.IntN(3))
		if objs := objects(root, nil, nil); rng.IntN(5) > 0 {
			slices.Sort(objs)
			base = objs[rng.IntN(len(objs))]
		}
		var rel []catalog.Op
		for range 1 + rng.IntN(3) {
			op := catalog.Op{Op: ops[rng.IntN(len(ops)-3)], Path: pointerOf(1 + rng.IntN(3)), Value: value(1)}
			if rng.IntN(10) == 0 {
				op.Op = ops[rng.IntN(len(ops))]
			}
			if op.Op == "move" || op.Op == "copy" {
				op.From = pointerOf(1 + rng.IntN(2))
			}
			rel = append(rel, op)
		}
		if sameOps(t, doc, base, rel) {
			planned++
		}
	}
	if planned < n/3 {
		t.Fatalf("only %d of %d cases worked out without going op by op", planned, n)
	}
	t.Logf("%d of %d cases worked out without going op by op", planned, n)
}

// TestEqualJSONIsDeepEqual compares equalJSON with reflect.DeepEqual on
// pairs of decoded documents that differ a little or not at all.
func TestEqualJSONIsDeepEqual(t *testing.T) {
	docs := []string{`null`, `1`, `1.5`, `"1"`, `true`, `false`, `[]`, `{}`, `[1,"1",null]`, `[1,"1"]`,
		`{"a":1}`, `{"a":1.0}`, `{"a":"1"}`, `{"a":null}`, `{"b":null}`, `{"a":[]}`, `{"a":{}}`, `{"a":[{}]}`,
		`{"a":{"b":[1,{"c":true}]}}`, `{"a":{"b":[1,{"c":false}]}}`, `{"a":{"b":[1,{"c":true}],"d":1}}`}
	for _, x := range docs {
		for _, y := range docs {
			var a, b any
			if json.Unmarshal([]byte(x), &a) != nil || json.Unmarshal([]byte(y), &b) != nil {
				t.Fatal("bad test document")
			}
			if got, want := equalJSON(a, b), reflect.DeepEqual(a, b); got != want {
				t.Errorf("equalJSON(%s, %s) = %v, want %v", x, y, got, want)
			}
			if got, want := SameDoc(NewDoc([]byte(x)), NewDoc([]byte(y))), SameJSON([]byte(x), []byte(y)); got != want {
				t.Errorf("SameDoc(%s, %s) = %v, want %v", x, y, got, want)
			}
		}
	}
	if !SameDoc(NewDoc([]byte(`{"a":1,"b":2}`)), NewDoc([]byte(`{"b":2,"a":1.0}`))) || SameDoc(NewDoc([]byte(`{"a":`)), NewDoc([]byte(`{"a":1}`))) {
		t.Fatal("SameDoc")
	}
	if !strings.Contains(fmt.Sprint(equalJSON(json.Number("1"), json.Number("1"))), "true") {
		t.Fatal("equalJSON of other types")
	}
}
