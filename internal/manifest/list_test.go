package manifest

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/yamledit"
)

// snapshotList writes a List as kubectl get -o yaml does (items at column
// ind): per unit a Deployment, the ReplicaSet it controls, two Pods of
// that ReplicaSet, and a Service; extra is added to each Deployment's
// spec (to try scalar styles).
func snapshotList(units, ind int, extra string) string {
	var b strings.Builder
	pad := strings.Repeat(" ", ind)
	item := func(lines ...string) {
		for i, l := range lines {
			if i == 0 {
				b.WriteString(pad + "- " + l + "\n")
			} else {
				b.WriteString(pad + "  " + l + "\n")
			}
		}
	}
	b.WriteString("apiVersion: v1\nitems:\n")
	for u := range units {
		dep, rs := fmt.Sprintf("uid-d-%d", u), fmt.Sprintf("uid-r-%d", u)
		item("apiVersion: apps/v1", "kind: Deployment", "metadata:",
			fmt.Sprintf("  name: web-%d", u), "  namespace: shop", "  uid: "+dep,
			"spec:", "  replicas: 2", "  template:", "    spec:", "      containers:",
			"      - image: nginx", "        name: app"+extra, "status:", "  replicas: 2")
		item("apiVersion: apps/v1", "kind: ReplicaSet", "metadata:",
			fmt.Sprintf("  name: web-%d-abc", u), "  namespace: shop", "  ownerReferences:",
			"  - apiVersion: apps/v1", "    controller: true", "    kind: Deployment", "    name: web", "    uid: "+dep,
			"  uid: "+rs, "spec:", "  template:", "    spec:", "      containers:", "      - image: nginx", "        name: app")
		for p := range 2 {
			item("apiVersion: v1", "kind: Pod", "metadata:",
				fmt.Sprintf("  name: web-%d-abc-%d", u, p), "  namespace: shop", "  ownerReferences:",
				"  - apiVersion: apps/v1", "    blockOwnerDeletion: true", "    controller: true", "    kind: ReplicaSet", "    name: web-abc", "    uid: "+rs,
				"spec:", "  containers:", "  - image: nginx", "    name: app", "status:", "  phase: Running")
		}
		item("apiVersion: v1", "kind: Service", "metadata:", fmt.Sprintf("  name: web-%d", u), "  namespace: shop",
			"spec:", "  ports:", "  - port: 80")
	}
	b.WriteString("kind: List\nmetadata:\n  resourceVersion: \"\"\n")
	return b.String()
}

// general is what the general read-only path gives for data.
func general(t testing.TB, data []byte) ([]Object, bool) {
	f, ok := DecodeForReading("s.yaml", data, DefaultMaxBytes)
	if !ok {
		pf, err := yamledit.Parse("s.yaml", data, yamledit.Options{})
		if err != nil {
			return nil, false
		}
		f = pf
	}
	return WithoutControlled(objectsOf(f, nil)), true
}

// sameObjects compares two object lists, trees included (lines, columns,
// styles, comments).
func sameObjects(got, want []Object) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d objects, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if fmt.Sprint(g.Ref, g.Pos, g.InDoc) != fmt.Sprint(w.Ref, w.Pos, w.InDoc) {
			return fmt.Sprintf("object %d: %v %v %v, want %v %v %v", i, g.Ref, g.Pos, g.InDoc, w.Ref, w.Pos, w.InDoc)
		}
		if d := sameNode(g.Node.YNode(), w.Node.YNode(), "$"); d != "" {
			return fmt.Sprintf("object %d (%s): %s", i, g.Ref, d)
		}
	}
	return ""
}

func sameNode(a, b *yaml.Node, at string) string {
	if a.Kind != b.Kind || a.Style != b.Style || a.Tag != b.Tag || a.Value != b.Value || a.Anchor != b.Anchor ||
		a.HeadComment != b.HeadComment || a.LineComment != b.LineComment || a.FootComment != b.FootComment ||
		a.Line != b.Line || a.Column != b.Column || len(a.Content) != len(b.Content) {
		return fmt.Sprintf("%s: %+v\nwant %+v", at, *a, *b)
	}
	for i := range a.Content {
		if d := sameNode(a.Content[i], b.Content[i], fmt.Sprintf("%s.%d", at, i)); d != "" {
			return d
		}
	}
	return ""
}

// checkList runs readList on data and, when it reads it, compares with the
// general path: on data itself when the general path reads it, and in any
// case on data with the items readList dropped unparsed cut to their heads
// (the rest of their lines left blank, so nothing else moves): what
// readList did not read cannot have changed its result.
func checkList(t testing.TB, data []byte) (ok bool) {
	return checkListKinds(t, data, nil)
}

// checkListKinds is checkList with readList keeping only some kinds.
func checkListKinds(t testing.TB, data []byte, kinds func(apiVersion, kind string) bool) (ok bool) {
	only := func(objs []Object) []Object {
		if kinds == nil {
			return objs
		}
		return slices.DeleteFunc(objs, func(o Object) bool { return !kinds(o.Ref.APIVersion, o.Ref.Kind) })
	}
	got, unparsed, ok := readListItems("s.yaml", data, kinds)
	got = only(got)
	if !ok {
		return false
	}
	if want, wok := general(t, data); wok {
		if d := sameObjects(got, only(want)); d != "" {
			t.Fatalf("readList and the general path differ: %s\ninput:\n%s", d, data)
		}
	}
	cut := slices.Clone(data)
	for _, it := range unparsed {
		if it.head == 0 {
			t.Fatalf("item at line %d dropped without a head", it.line)
		}
		for i := it.head; i < it.end; i++ {
			if cut[i] != '\n' {
				cut[i] = ' '
			}
		}
	}
	want, wok := general(t, cut)
	if !wok {
		t.Fatalf("readList read a file whose heads the general path refuses:\n%s", cut)
	}
	if d := sameObjects(got, only(want)); d != "" {
		t.Fatalf("readList and the general path on the heads differ: %s\ninput:\n%s", d, data)
	}
	return true
}

func TestReadListAsGeneral(t *testing.T) {
	const n = 5 // units: 25 items
	cases := []struct {
		name string
		data string
		fast bool // readList must read it
	}{
		{"kubectl", snapshotList(n, 0, ""), true},
		{"indented items", snapshotList(n, 2, ""), true},
		{"kind before items", strings.Replace(snapshotList(n, 2, ""), "apiVersion: v1\nitems:\n", "# a header comment\napiVersion: v1\nkind: List\nitems:\n", 1), true},
		{"block scalar", snapshotList(n, 0, "\n        args:\n        - |\n          - not an item\n          kind: no"), true},
		{"folded quoted scalar at key indentation", snapshotList(n, 0, "\n        env:\n        - value: \"a\n  metadata: b\"\n          name: X"), true},
		{"flow mapping over lines", snapshotList(n, 0, "\n        resources: {limits:\n  {cpu: 1}}"), true},
		{"comment in an item", snapshotList(n, 0, "  # tuned"), false},
		{"CRLF", strings.ReplaceAll(snapshotList(n, 0, ""), "\n", "\r\n"), false},
		{"alias", strings.Replace(snapshotList(n, 0, ""), "replicas: 2", "replicas: &r 2\n  x: *r", 1), false},
		{"second document", snapshotList(n, 0, "") + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n", false},
		{"few items", snapshotList(1, 0, ""), false},
		{"scalar item", strings.Replace(snapshotList(n, 0, ""), "items:\n", "items:\n- plain scalar item\n", 1), false},
		{"not a list", "apiVersion: v1\nkind: ConfigMap\nitems:\n- a\n- b\n", false},
	}
	// An item whose "metadata:" is first seen inside a quoted scalar (its
	// head cannot be cut there), and one whose metadata comes last: both
	// parsed in full.
	odd := strings.Replace(snapshotList(n, 0, ""), "items:\n", "items:\n- apiVersion: v1\n  kind: Pod\n  note: \"a\n  metadata: b\"\n  spec: {}\n  metadata:\n    name: quoted\n    ownerReferences:\n    - controller: true\n      uid: uid-d-1\n- kind: Pod\n  apiVersion: v1\n  spec: {}\n  metadata:\n    name: last\n    ownerReferences:\n    - controller: true\n      uid: uid-d-0\n", 1)
	cases = append(cases, struct {
		name string
		data string
		fast bool
	}{"odd items", odd, true})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ok := checkList(t, []byte(c.data))
			if ok != c.fast {
				t.Fatalf("readList ok = %v, want %v", ok, c.fast)
			}
			if ok {
				// Each unit keeps its Deployment and its Service; Pods
				// and ReplicaSets are dropped.
				got, _ := readList("s.yaml", []byte(c.data), nil)
				kinds := map[string]int{}
				for _, o := range got {
					kinds[o.Ref.Kind]++
				}
				if kinds["Deployment"] != n || kinds["Service"] != n || kinds["Pod"]+kinds["ReplicaSet"] != 0 {
					t.Fatalf("kept %v", kinds)
				}
			}
		})
	}
}

// TestReadListFixture: the snapshot the demo uses reads the same both ways.
func TestReadListFixture(t *testing.T) {
	data, err := os.ReadFile("../../fixtures/live/snapshot.yaml")
	if err != nil {
		t.Fatal(err)
	}
	checkList(t, data)
}

// checkHeads compares, for every item of data, scanHead with the parser.
func checkHeads(t testing.TB, data []byte) {
	items, ind, ok := splitList(data)
	if !ok {
		return
	}
	for _, it := range items {
		if it.head == 0 {
			continue
		}
		got, ok := scanHead(data[it.start:it.head], ind+2)
		if !ok {
			continue
		}
		n, err := parseItem(data[it.start:it.head], ind, it.line)
		if err != nil || !hasKeys(n, "apiVersion", "kind", "metadata") {
			t.Fatalf("scanHead read a head the parser refuses (%v):\n%s", err, data[it.start:it.head])
		}
		ref, object := ObjectRefOf(yaml.NewRNode(n))
		want := headFacts{object: object, apiVersion: ref.APIVersion, kind: ref.Kind, uid: ref.UID, controller: controllerUID(yaml.NewRNode(n))}
		if !object { // then apiVersion, kind and uid are not used
			want.apiVersion, got.apiVersion, want.kind, got.kind, want.uid, got.uid = "", "", "", "", "", ""
		}
		if got != want {
			t.Fatalf("scanHead read %+v, the parser %+v:\n%s", got, want, data[it.start:it.head])
		}
	}
}

func TestScanHead(t *testing.T) {
	scanned := 0
	for _, data := range []string{snapshotList(3, 0, ""), snapshotList(3, 2, "")} {
		checkHeads(t, []byte(data))
		items, ind, _ := splitList([]byte(data))
		for _, it := range items {
			if _, ok := scanHead([]byte(data)[it.start:it.head], ind+2); ok && it.head > 0 {
				scanned++
			}
		}
	}
	if scanned < 18 { // the ReplicaSets and Pods
		t.Fatalf("scanHead read %d heads", scanned)
	}
}

func FuzzReadList(f *testing.F) {
	f.Add([]byte(snapshotList(2, 0, "")))
	f.Add([]byte(snapshotList(2, 2, "\n        args: [\"a\",\n  \"b\"]")))
	f.Add([]byte(snapshotList(2, 0, "\n        command: 'x\n  kind: y'")))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		checkHeads(t, data)
		checkList(t, data)
		checkListKinds(t, data, func(_, kind string) bool { return kind == "Deployment" || kind == "0" })
	})
}

// TestReadListKinds: items of kinds left out are never parsed whole, and
// the result is the general path's, filtered.
func TestReadListKinds(t *testing.T) {
	data := []byte(snapshotList(4, 0, ""))
	deployments := func(_, kind string) bool { return kind == "Deployment" }
	if !checkListKinds(t, data, deployments) {
		t.Fatal("readList did not read the snapshot")
	}
	got, unparsed, _ := readListItems("s.yaml", data, deployments)
	if len(got) != 4 || len(unparsed) != 15 { // 4 of each unit's 5 items, the last unit's Service parsed (the last item)
		t.Fatalf("%d objects, %d items unparsed", len(got), len(unparsed))
	}
}
