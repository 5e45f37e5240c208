package sourcemap

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/yamledit"
)

// valuesPatches returns, for a HelmRelease found at loc (a file of the
// kustomization at loc.Path, or of one it includes), the files whose
// patches set the HelmRelease's spec.values: patch files of every
// kustomization on the way, included kustomizations first (kustomize's
// order), and a kustomization file itself for an inline patch. A patch
// applies when its target (kind, name and namespace, kustomize's anchored
// regular expressions) or, without a target, its own kind and name, are
// the HelmRelease's as its file writes them.
func (m *Mapper) valuesPatches(loc Location) []string {
	c := m.checkout(loc.Repo)
	if c == nil || loc.File == "" {
		return nil
	}
	ix, err := c.index()
	if err != nil || ix.kusts[loc.Path] == nil {
		return nil
	}
	var hr *entry
	for _, id := range ix.files[loc.File] {
		if e := &ix.entries[id]; e.doc == loc.Document && e.kind == "HelmRelease" {
			hr = e
		}
	}
	if hr == nil {
		return nil
	}
	root, err := c.open()
	if err != nil {
		return nil
	}
	defer root.Close()
	var out []string
	seen := map[string]bool{}
	var walk func(dir string)
	walk = func(dir string) {
		k := ix.kusts[dir]
		if k == nil || seen[dir] {
			return
		}
		seen[dir] = true
		for _, r := range k.resources {
			if p, err := joinRel(dir, r); err == nil && !isRemote(r) {
				walk(p)
			}
		}
		for _, f := range kustValuesPatches(root, k, hr) {
			if len(out) == 0 || out[len(out)-1] != f {
				out = append(out, f)
			}
		}
	}
	walk(loc.Path)
	return out
}

// kustValuesPatches returns the files of kustomization k whose patches
// set spec.values of the HelmRelease e.
func kustValuesPatches(root *os.Root, k *kustFile, e *entry) []string {
	docs := readYAMLDocs(root, k.file)
	if len(docs) == 0 {
		return nil
	}
	kn := docs[0]
	var out []string
	add := func(file string, patchDocs []*yaml.Node, target *yaml.Node) {
		if target != nil && !targets(target, e) {
			return
		}
		if setsValues(patchDocs, e, target == nil) && (len(out) == 0 || out[len(out)-1] != file) {
			out = append(out, file)
		}
	}
	// kustomize's order: patchesStrategicMerge, patches, patchesJson6902.
	for _, s := range items(get(kn, "patchesStrategicMerge")) {
		v := str(s)
		if strings.ContainsAny(v, "\n:") {
			add(k.file, parseDocs(k.file, []byte(v)), nil)
		} else if p, err := joinRel(k.dir, v); err == nil {
			add(p, readYAMLDocs(root, p), nil)
		}
	}
	for _, f := range []string{"patches", "patchesJson6902"} {
		for _, it := range items(get(kn, f)) {
			target := mapping(get(it, "target"))
			if inline := str(get(it, "patch")); inline != "" {
				add(k.file, parseDocs(k.file, []byte(inline)), target)
			} else if p, err := joinRel(k.dir, str(get(it, "path"))); err == nil && p != "" {
				add(p, readYAMLDocs(root, p), target)
			}
		}
	}
	return out
}

// targets reports whether a kustomize patch target selects e.
func targets(t *yaml.Node, e *entry) bool {
	for _, f := range []struct{ key, value string }{{"kind", e.kind}, {"name", e.name}, {"namespace", e.ns}, {"group", e.group}} {
		pat := str(get(t, f.key))
		if pat == "" {
			continue
		}
		re, err := regexp.Compile("^(?:" + pat + ")$")
		if err != nil || !re.MatchString(f.value) {
			return false
		}
	}
	return true
}

// setsValues reports whether a patch (strategic-merge documents, or a list
// of RFC 6902 operations) sets spec.values; a strategic-merge document
// without a target must name e itself.
func setsValues(docs []*yaml.Node, e *entry, own bool) bool {
	for _, d := range docs {
		switch d.Kind {
		case yaml.MappingNode:
			if own && (str(get(d, "kind")) != e.kind || str(at(d, "metadata", "name")) != e.name) {
				continue
			}
			if ns := str(at(d, "metadata", "namespace")); own && ns != "" && e.ns != "" && ns != e.ns {
				continue
			}
			if at(d, "spec", "values") != nil {
				return true
			}
		case yaml.SequenceNode:
			for _, op := range items(d) {
				if p := str(get(op, "path")); p == "/spec/values" || strings.HasPrefix(p, "/spec/values/") {
					return true
				}
			}
		}
	}
	return false
}

// readYAMLDocs reads the documents of a file of the checkout (nil when it
// cannot be read or parsed).
func readYAMLDocs(root *os.Root, p string) []*yaml.Node {
	data, err := readLimited(root, filepath.FromSlash(p))
	if err != nil {
		return nil
	}
	return parseDocs(p, data)
}

// parseDocs parses YAML (or JSON) into its documents' roots.
func parseDocs(name string, data []byte) []*yaml.Node {
	f, err := yamledit.Parse(name, data, yamledit.Options{MaxBytes: maxFileBytes})
	if err != nil {
		return nil
	}
	var out []*yaml.Node
	for _, d := range f.Docs {
		if d.Node != nil {
			out = append(out, rootOf(d.Node))
		}
	}
	return out
}
