package manifest

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/yamledit"
)

// objectRefKyaml and controllerUIDKyaml are the readings ObjectRefOf and
// controllerUID replace (kyaml's GetMeta and Lookup): the tests check that
// both read the same on the odd inputs as on the usual ones.
func objectRefKyaml(n *yaml.RNode) (finding.ObjectRef, bool) {
	meta, err := n.GetMeta()
	if err != nil || meta.Kind == "" || meta.APIVersion == "" {
		return finding.ObjectRef{}, false
	}
	return finding.ObjectRef{
		APIVersion: meta.APIVersion,
		Kind:       meta.Kind,
		Namespace:  meta.Namespace,
		Name:       meta.Name,
		UID:        stringAtKyaml(n, "metadata", "uid"),
	}, true
}

func stringAtKyaml(n *yaml.RNode, path ...string) string {
	v, err := n.Pipe(yaml.Lookup(path...))
	if err != nil || v == nil || v.YNode().Kind != yaml.ScalarNode {
		return ""
	}
	return v.YNode().Value
}

func controllerUIDKyaml(n *yaml.RNode) string {
	refs, err := n.Pipe(yaml.Lookup("metadata", "ownerReferences"))
	if err != nil || refs == nil || refs.YNode().Kind != yaml.SequenceNode {
		return ""
	}
	for _, r := range refs.YNode().Content {
		rn := yaml.NewRNode(r)
		if stringAtKyaml(rn, "controller") == "true" {
			return stringAtKyaml(rn, "uid")
		}
	}
	return ""
}

var refInputs = []string{
	"apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  namespace: b\n  uid: u-1\n",
	"apiVersion: v1\nkind: Pod\n",
	"kind: Pod\nmetadata: {name: a}\n",
	"apiVersion: v1\nmetadata: {name: a}\n",
	"apiVersion: v1\nkind: Pod\nmetadata: null\n",
	"apiVersion: v1\nkind: Pod\nmetadata: {}\n",
	"apiVersion: v1\nkind: Pod\nmetadata: []\n",
	"apiVersion: v1\nkind: Pod\nmetadata: [a, b]\n",
	"apiVersion: v1\nkind: Pod\nmetadata: text\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  name: null\n  namespace: ~\n  uid: null\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  name:\n  namespace:\n  uid:\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {}\n  namespace: []\n  uid: {a: b}\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  name: [x]\n  namespace: {y: z}\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  name: 123\n  namespace: true\n  uid: 4.5\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"\"\n  namespace: ''\n",
	"apiVersion: null\nkind: Pod\n",
	"apiVersion: v1\nkind: ~\n",
	"apiVersion: {}\nkind: Pod\n",
	"apiVersion: [v1]\nkind: Pod\n",
	"apiVersion: v1\nkind: [Pod]\n",
	"apiVersion: \"\"\nkind: Pod\n",
	"apiVersion: v1\napiVersion: v2\nkind: Pod\nkind: Svc\nmetadata:\n  name: a\n  name: b\n  uid: 1\n  uid: 2\nmetadata:\n  name: c\n",
	"apiVersion: &v v1\nkind: *v\nmetadata: &m\n  name: a\n",
	"a: &m {name: n, uid: u}\napiVersion: v1\nkind: Pod\nmetadata: *m\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  name: &n a\n  uid: *n\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  name: !!str a\n  uid: !!null ''\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  name: |\n    multi\n    line\n",
	"- a\n- b\n",
	"just text\n",
	"null\n",
	"{}\n",
	"apiVersion: v1 # comment\nkind: Pod # another\nmetadata:\n  # head\n  name: a # line\n",
	// owner references
	"apiVersion: v1\nkind: Pod\nmetadata:\n  ownerReferences:\n  - {controller: true, uid: c-1}\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  ownerReferences:\n  - {controller: false, uid: c-0}\n  - {controller: true, uid: c-1}\n  - {controller: true, uid: c-2}\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  ownerReferences:\n  - {controller: \"true\", uid: c-1}\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  ownerReferences:\n  - {controller: True, uid: c-1}\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  ownerReferences:\n  - {controller: true}\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  ownerReferences:\n  - {controller: true, uid: null}\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  ownerReferences:\n  - {controller: true, uid: [a]}\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  ownerReferences:\n  - null\n  - [a]\n  - text\n  - {controller: true, uid: c-3}\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  ownerReferences: {controller: true, uid: c-1}\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  ownerReferences: null\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  ownerReferences: []\n",
	"x: &o {controller: true, uid: c-9}\napiVersion: v1\nkind: Pod\nmetadata:\n  ownerReferences:\n  - *o\n",
	"x: &o [{controller: true, uid: c-9}]\napiVersion: v1\nkind: Pod\nmetadata:\n  ownerReferences: *o\n",
	"apiVersion: v1\nkind: Pod\nmetadata: null\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  ownerReferences:\n  - {controller: true, controller: false, uid: a, uid: b}\n",
}

func TestObjectRefOfReadsAsKyaml(t *testing.T) {
	for i, in := range refInputs {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			f, err := yamledit.Parse("in.yaml", []byte(in), yamledit.Options{})
			if err != nil {
				t.Fatalf("a test input that does not parse proves nothing: %v", err)
			}
			for _, d := range f.Docs {
				if d.Node == nil {
					continue
				}
				got, gotOK := ObjectRefOf(d.Node)
				want, wantOK := objectRefKyaml(d.Node)
				if got != want || gotOK != wantOK {
					t.Errorf("%q:\nObjectRefOf = %+v, %v\nkyaml reads  %+v, %v", in, got, gotOK, want, wantOK)
				}
				if got, want := controllerUID(d.Node), controllerUIDKyaml(d.Node); got != want {
					t.Errorf("%q: controllerUID = %q, kyaml reads %q", in, got, want)
				}
			}
		})
	}
}

// TestLoadListItems: the items of a List are objects of their own, in
// order, with their path in the document; controlled ones are left out
// by WithoutControlled.
func TestLoadListItems(t *testing.T) {
	in := strings.Join([]string{
		"apiVersion: v1",
		"kind: List",
		"items:",
		"- apiVersion: apps/v1",
		"  kind: Deployment",
		"  metadata: {name: web, namespace: shop, uid: d-1}",
		"- apiVersion: apps/v1",
		"  kind: ReplicaSet",
		"  metadata:",
		"    name: web-1",
		"    namespace: shop",
		"    uid: r-1",
		"    ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: d-1, controller: true}]",
		"- apiVersion: v1",
		"  kind: Pod",
		"  metadata:",
		"    name: orphan",
		"    ownerReferences: [{kind: ReplicaSet, name: gone, uid: r-9, controller: true}]",
		"---",
		"apiVersion: v1",
		"kind: ConfigMap",
		"metadata: {name: c}",
		"",
	}, "\n")
	s := Load([]string{"-"}, Options{Stdin: strings.NewReader(in)})
	if len(s.Errors) > 0 || len(s.Files) != 1 {
		t.Fatalf("errors %v, %d files", s.Errors, len(s.Files))
	}
	var got []string
	for _, o := range s.Objects {
		got = append(got, fmt.Sprintf("%s/%s doc %d line %d %s", o.Ref.Kind, o.Ref.Name, o.Pos.Document, o.Pos.Line, strings.Join(o.InDoc, ".")))
	}
	want := []string{
		"Deployment/web doc 0 line 4 items.0",
		"ReplicaSet/web-1 doc 0 line 7 items.1",
		"Pod/orphan doc 0 line 14 items.2",
		"ConfigMap/c doc 1 line 20 ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("objects:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var top []string
	for _, o := range WithoutControlled(s.Objects) {
		top = append(top, o.Ref.Name)
	}
	if strings.Join(top, ",") != "web,orphan,c" {
		t.Fatalf("WithoutControlled kept %v", top)
	}

	// DropControlled leaves out the ReplicaSet its Deployment controls in
	// the same file, keeps the Pod whose controller is not there, and
	// keeps no file.
	d := Load([]string{"-"}, Options{Stdin: strings.NewReader(in), DropControlled: true})
	var kept []string
	for _, o := range d.Objects {
		kept = append(kept, fmt.Sprintf("%s/%s doc %d line %d %s", o.Ref.Kind, o.Ref.Name, o.Pos.Document, o.Pos.Line, strings.Join(o.InDoc, ".")))
	}
	if len(d.Errors) > 0 || len(d.Files) != 0 || strings.Join(kept, "\n") != strings.Join([]string{want[0], want[2], want[3]}, "\n") {
		t.Fatalf("DropControlled: errors %v, %d files, objects:\n%s", d.Errors, len(d.Files), strings.Join(kept, "\n"))
	}
}

// TestDecodeForReadingAsParse: the read-only decoding gives the same
// objects (reference, position, path in the document) as yamledit.Parse,
// on every manifest of the repository's fixtures.
func TestDecodeForReadingAsParse(t *testing.T) {
	fast := 0
	err := filepath.WalkDir("../../fixtures", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch filepath.Ext(p) {
		case ".yaml", ".yml", ".json":
		default:
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f, ok := DecodeForReading(p, data, DefaultMaxBytes)
		if !ok {
			return nil
		}
		fast++
		want, err := yamledit.Parse(p, data, yamledit.Options{})
		if err != nil {
			t.Errorf("%s: decodes for reading, but Parse says %v", p, err)
			return nil
		}
		show := func(objs []Object) string {
			var b strings.Builder
			for _, o := range objs {
				fmt.Fprintf(&b, "%+v %+v %v\n", o.Ref, o.Pos, o.InDoc)
			}
			return b.String()
		}
		if got, want := show(objectsOf(f, nil)), show(objectsOf(want, nil)); got != want {
			t.Errorf("%s:\nread:\n%sParse:\n%s", p, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fast < 50 {
		t.Errorf("only %d fixtures decoded for reading", fast)
	}
}
