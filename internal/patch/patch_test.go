package patch

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kmend/kmend/internal/catalog"
)

func TestAbsoluteOpsAddsMissingParents(t *testing.T) {
	doc := []byte(`{"spec":{"containers":[{"name":"a"},{"name":"b","securityContext":{"capabilities":{"add":["X"]}}}]}}`)
	rel := []catalog.Op{
		{Op: "add", Path: "/securityContext/capabilities/drop", Value: []any{"ALL"}},
		{Op: "replace", Path: "/securityContext/runAsUser", Value: 10001},
		{Op: "remove", Path: "/securityContext/privileged"},
	}
	ops, err := absoluteOps(doc, "/spec/containers/0", rel)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(ops)
	want := `[{"op":"add","path":"/spec/containers/0/securityContext","value":{}},` +
		`{"op":"add","path":"/spec/containers/0/securityContext/capabilities","value":{}},` +
		`{"op":"add","path":"/spec/containers/0/securityContext/capabilities/drop","value":["ALL"]},` +
		`{"op":"add","path":"/spec/containers/0/securityContext/runAsUser","value":10001}]`
	if string(got) != want {
		t.Fatalf("ops =\n%s\nwant\n%s", got, want)
	}
	// On the second container only the missing leaf is added.
	ops, err = absoluteOps(doc, "/spec/containers/1", rel[:1])
	if err != nil || len(ops) != 1 {
		t.Fatalf("ops = %+v, %v", ops, err)
	}
	if _, err := ApplyJSONPatch(doc, ops); err != nil {
		t.Fatal(err)
	}
}

func TestPointerEscapesAndShellQuote(t *testing.T) {
	if p := pointer([]string{"metadata", "annotations", "a.b/c~d"}); p != "/metadata/annotations/a.b~1c~0d" {
		t.Fatalf("pointer = %s", p)
	}
	if got := shellQuote(`{"a":"it's"}`); got != `'{"a":"it'\''s"}'` {
		t.Fatalf("shellQuote = %s", got)
	}
	if !strings.HasPrefix(shellQuote("x"), "'") {
		t.Fatal("not quoted")
	}
}

func TestApplyStrategicMergeKnowsMergeKeys(t *testing.T) {
	doc := []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"template":{"spec":{"containers":[{"name":"a","image":"x"},{"name":"b","image":"y"}]}}}}`)
	p := []byte(`{"spec":{"template":{"spec":{"containers":[{"name":"b","securityContext":{"privileged":false}}]}}}}`)
	out, err := ApplyStrategicMerge("Deployment", doc, p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `{"image":"x","name":"a"}`) || !strings.Contains(string(out), `"privileged":false`) {
		t.Fatalf("strategic merge lost a container or the patch: %s", out)
	}
	if _, err := ApplyStrategicMerge("ConfigMap", doc, p); err == nil {
		t.Fatal("a kind without schema must be refused")
	}
	if !SameJSON([]byte(`{"a":1,"b":[1,2]}`), []byte(`{"b":[1,2],"a":1}`)) || SameJSON([]byte(`{"a":1}`), []byte(`{"a":2}`)) {
		t.Fatal("SameJSON")
	}
}
