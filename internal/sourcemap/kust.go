package sourcemap

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/kmend/kmend/internal/yamledit"
)

// kustFile is what the index keeps of a kustomization file.
type kustFile struct {
	dir, file  string
	line       int
	resources  []string // resources, bases and components, as written
	ns         string
	prefix     string
	suffix     string
	patches    []string // patch files, as written
	generators map[string]int
}

func readKustomization(root *os.Root, p string) *kustFile {
	data, err := readLimited(root, filepath.FromSlash(p))
	if err != nil {
		return nil
	}
	f, err := yamledit.Parse(p, data, yamledit.Options{MaxBytes: maxFileBytes})
	if err != nil || len(f.Docs) == 0 || f.Docs[0].Node == nil {
		return nil
	}
	n := f.Docs[0].Node.YNode()
	k := &kustFile{
		dir:        dirOf(p),
		file:       p,
		line:       f.Docs[0].Line,
		ns:         str(get(n, "namespace")),
		prefix:     str(get(n, "namePrefix")),
		suffix:     str(get(n, "nameSuffix")),
		generators: map[string]int{},
	}
	for _, f := range []string{"resources", "bases", "components"} {
		k.resources = append(k.resources, scalars(get(n, f))...)
	}
	for _, s := range scalars(get(n, "patchesStrategicMerge")) {
		if !strings.ContainsAny(s, "\n:") { // a path, not an inline patch
			k.patches = append(k.patches, s)
		}
	}
	for _, f := range []string{"patches", "patchesJson6902"} {
		for _, it := range items(get(n, f)) {
			if p := str(get(it, "path")); p != "" {
				k.patches = append(k.patches, p)
			}
		}
	}
	for _, f := range []string{"configMapGenerator", "secretGenerator"} {
		for _, it := range items(get(n, f)) {
			if name := str(get(it, "name")); name != "" {
				k.generators[name] = it.Line
			}
		}
	}
	return k
}

// isRemote reports whether a kustomize resource is a remote URL.
func isRemote(r string) bool {
	return strings.Contains(r, "://") || strings.HasPrefix(r, "git@") ||
		strings.HasPrefix(r, "github.com/") || strings.Contains(r, "?ref=") ||
		strings.Contains(r, "//") || strings.HasSuffix(r, ".git")
}

// markKustomizeFiles records the files kustomizations list as resources,
// and the files only listed as patches.
func (ix *index) markKustomizeFiles() {
	for _, k := range ix.kusts {
		for _, r := range k.resources {
			if isRemote(r) {
				continue
			}
			if p, err := joinRel(k.dir, r); err == nil {
				if _, ok := ix.files[p]; ok {
					ix.resources[p] = true
				}
			}
		}
	}
	for _, k := range ix.kusts {
		for _, r := range k.patches {
			if p, err := joinRel(k.dir, r); err == nil && !ix.resources[p] {
				ix.patches[p] = true
			}
		}
	}
}

// generatorLine returns the line of the generator in k whose name produced
// the live name (with the kustomization's prefix/suffix and kustomize's
// hash suffix), or 0.
func (k *kustFile) generatorLine(liveName string) int {
	for name, line := range k.generators {
		if generatedBy(liveName, name) {
			return line
		}
	}
	return 0
}

// generatedBy reports whether liveName can come from a generator named
// name: the name may carry prefixes and suffixes, and a hash suffix.
func generatedBy(liveName, name string) bool {
	i := strings.Index(liveName, name)
	if i < 0 {
		return false
	}
	rest := liveName[i+len(name):]
	return rest == "" || strings.HasPrefix(rest, "-")
}
