package helm

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/finding"
)

// fixtures is the sample repository of charts, Flux and Argo CD files.
const fixtures = "../../fixtures/helm"

var (
	catalogOnce sync.Once
	builtin     *catalog.Catalog
	catalogErr  error
)

func controls(t testing.TB, ids ...string) []*catalog.Control {
	t.Helper()
	catalogOnce.Do(func() { builtin, catalogErr = catalog.LoadBuiltin() })
	if catalogErr != nil {
		t.Fatal(catalogErr)
	}
	if len(ids) == 0 {
		return builtin.All()
	}
	cs, err := builtin.Select(ids)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

var autoReview = []finding.Fixability{finding.FixAuto, finding.FixReview}

// copyTree copies the regular files and directories of src into a new
// temporary directory and returns it.
func copyTree(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// writeTree writes files (slash paths → content) below dir.
func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// listFiles returns the regular files below dir, as sorted slash paths.
func listFiles(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// leafDiff lists the JSON pointers of the leaves that differ between two
// decoded JSON documents. It is written separately from the package's
// diff so that the tests do not check the code with itself.
func leafDiff(a, b any) []string {
	var out []string
	var walk func(p string, a, b any)
	walk = func(p string, a, b any) {
		am, aok := a.(map[string]any)
		bm, bok := b.(map[string]any)
		if aok || bok {
			if am == nil {
				am = map[string]any{}
			}
			if bm == nil {
				bm = map[string]any{}
			}
			keys := map[string]bool{}
			for k := range am {
				keys[k] = true
			}
			for k := range bm {
				keys[k] = true
			}
			for k := range keys {
				walk(p+"/"+strings.NewReplacer("~", "~0", "/", "~1").Replace(k), am[k], bm[k])
			}
			return
		}
		al, aok := a.([]any)
		bl, bok := b.([]any)
		if aok && bok && len(al) == len(bl) {
			for i := range al {
				walk(p+"/"+strconv.Itoa(i), al[i], bl[i])
			}
			return
		}
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			out = append(out, p)
		}
	}
	walk("", a, b)
	sort.Strings(out)
	return out
}

// pathPointer turns a finding's field path
// (spec.template.spec.containers[0].securityContext.privileged) into a
// JSON pointer.
func pathPointer(p string) string {
	var b strings.Builder
	for _, part := range strings.Split(p, ".") {
		name, idx, hasIdx := strings.Cut(part, "[")
		b.WriteString("/" + name)
		if hasIdx {
			b.WriteString("/" + strings.TrimSuffix(idx, "]"))
		}
	}
	return b.String()
}

func underPointer(p, prefix string) bool {
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}

func objectsByKey(t testing.TB, objs []Object) map[string]any {
	t.Helper()
	out := map[string]any{}
	for i := range objs {
		v, err := nodeJSON(objs[i].Node)
		if err != nil {
			t.Fatal(err)
		}
		out[objs[i].Ref.Kind+"/"+objs[i].Ref.Namespace+"/"+objs[i].Ref.Name] = v
	}
	return out
}

func keysOfMap(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
