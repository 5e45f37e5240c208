package sourcemap

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/yamledit"
)

// maxFileBytes bounds the files indexed and read (yamledit's default).
const maxFileBytes = 8 << 20

// checkout is one local checkout. Its index is built the first time it is
// needed, once.
type checkout struct {
	url string // normalised URL, "" when only known as the default
	dir string // absolute directory

	once sync.Once
	ix   *index
	err  error

	mu      sync.Mutex
	scopes  map[scopeKey]*scope
	origins map[string]*originCandidates // origin path → candidate roots
}

// joinRel joins p, a slash path read from an annotation or a custom
// resource, to base (a clean slash path relative to the checkout root, ""
// for the root). It refuses, with ErrEscapes, absolute paths, drive
// letters, backslashes, NUL bytes and results that leave the root. The
// result is clean and relative, "" for the root. Symbolic links are
// checked later, by resolve.
func joinRel(base, p string) (string, error) {
	if err := checkSyntax(p); err != nil {
		return "", err
	}
	j := path.Join(base, p)
	if j == ".." || strings.HasPrefix(j, "../") {
		return "", fmt.Errorf("%w: %q leaves the checkout", ErrEscapes, path.Join(base, p))
	}
	if j == "." {
		j = ""
	}
	return j, nil
}

// checkSyntax refuses paths that cannot be relative slash paths: absolute
// ones, drive letters, backslashes and NUL bytes.
func checkSyntax(p string) error {
	if strings.ContainsAny(p, "\x00\\") {
		return fmt.Errorf("%w: %q contains a backslash or NUL", ErrEscapes, p)
	}
	if path.IsAbs(p) || filepath.IsAbs(p) || (len(p) >= 2 && p[1] == ':' && isLetter(p[0])) {
		return fmt.Errorf("%w: %q is absolute", ErrEscapes, p)
	}
	return nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// errLinkLoop is returned by resolve for too many symbolic links.
var errLinkLoop = errors.New("too many levels of symbolic links")

// resolve follows the symbolic links of rel (a path checked by joinRel)
// inside the checkout and returns the real path, relative to the root. A
// link that is absolute or leads out of the root gives ErrEscapes (os.Root
// refuses both too); a missing component gives an error wrapping
// fs.ErrNotExist. Every look-up goes through os.Root.
func (c *checkout) resolve(root *os.Root, rel string) (string, error) {
	if rel == "" {
		return "", nil
	}
	pending := strings.Split(rel, "/")
	var done []string
	for hops := 0; len(pending) > 0; {
		comp := pending[0]
		pending = pending[1:]
		switch comp {
		case "", ".":
			continue
		case "..":
			if len(done) == 0 {
				return "", fmt.Errorf("%w: %q leaves the checkout through a symbolic link", ErrEscapes, rel)
			}
			done = done[:len(done)-1]
			continue
		}
		cur := path.Join(append(done, comp)...)
		fi, err := root.Lstat(filepath.FromSlash(cur))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return "", fmt.Errorf("%s: %w", cur, fs.ErrNotExist)
			}
			return "", fmt.Errorf("%s: %w", cur, err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			done = append(done, comp)
			continue
		}
		if hops++; hops > 40 {
			return "", fmt.Errorf("%s: %w", rel, errLinkLoop)
		}
		target, err := root.Readlink(filepath.FromSlash(cur))
		if err != nil {
			return "", fmt.Errorf("%s: %w", cur, err)
		}
		target = filepath.ToSlash(target)
		if path.IsAbs(target) || filepath.IsAbs(target) || strings.ContainsRune(target, 0) {
			return "", fmt.Errorf("%w: %s is a symbolic link to %s", ErrEscapes, cur, target)
		}
		pending = append(strings.Split(target, "/"), pending...)
	}
	return path.Join(done...), nil
}

// open opens the checkout's root directory.
func (c *checkout) open() (*os.Root, error) {
	r, err := os.OpenRoot(c.dir)
	if err != nil {
		return nil, fmt.Errorf("checkout %s: %w", c.dir, err)
	}
	return r, nil
}

// locateFile resolves rel (checked by joinRel) to a regular file of the
// checkout and returns its real path.
func (c *checkout) locateFile(rel string) (string, error) {
	ix, err := c.index()
	if err != nil {
		return "", err
	}
	if _, ok := ix.files[rel]; ok {
		return rel, nil // indexed files are regular files reached without links
	}
	real, fi, err := c.stat(rel)
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s: not a regular file", real)
	}
	return real, nil
}

// locateDir resolves rel (checked by joinRel) to a directory of the
// checkout and returns its real path ("" for the root).
func (c *checkout) locateDir(rel string) (string, error) {
	if rel == "" {
		return "", nil
	}
	ix, err := c.index()
	if err != nil {
		return "", err
	}
	if ix.dirs[rel] {
		return rel, nil
	}
	real, fi, err := c.stat(rel)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("%s: not a directory", real)
	}
	return real, nil
}

// stat resolves rel through the checkout's links, refusing any that leave
// it, and returns the real path and what is there.
func (c *checkout) stat(rel string) (string, fs.FileInfo, error) {
	root, err := c.open()
	if err != nil {
		return "", nil, err
	}
	defer root.Close()
	real, err := c.resolve(root, rel)
	if err != nil {
		return "", nil, err
	}
	fi, err := root.Stat(filepath.FromSlash(real))
	if err != nil {
		return "", nil, err
	}
	return real, fi, nil
}

// fileEntries returns the objects of a file (a real path from locateFile):
// from the index, or read through os.Root for a file the index skipped.
func (c *checkout) fileEntries(real string) ([]entry, error) {
	ix, err := c.index()
	if err != nil {
		return nil, err
	}
	if ids, ok := ix.files[real]; ok {
		out := make([]entry, len(ids))
		for i, id := range ids {
			out[i] = ix.entries[id]
		}
		return out, nil
	}
	root, err := c.open()
	if err != nil {
		return nil, err
	}
	defer root.Close()
	data, err := readLimited(root, filepath.FromSlash(real))
	if err != nil {
		return nil, err
	}
	es, _, err := parseEntries(real, data)
	return es, err
}

// entry is one object of the index.
type entry struct {
	file      string // relative to the checkout root, slashes
	doc, line int
	group     string
	kind, ns  string
	name      string
}

// index lists the objects of a checkout.
type index struct {
	entries []entry
	byKey   map[string][]int32 // kind + "\x00" + name → entries
	files   map[string][]int32 // every file indexed → its entries (maybe none)
	dirs    map[string]bool    // every directory walked (not through links)
	kusts   map[string]*kustFile
	kdirs   []string        // directories holding a kustomization, sorted
	charts  map[string]bool // directories holding a Chart.yaml
	// resources are files listed as resources by a kustomization; patches
	// are files only listed as patches (never found by search).
	resources map[string]bool
	patches   map[string]bool
	skipped   []string // symbolic links, oversized and unreadable files
	// seen is every path the walk met: the directories it read
	// (seenDir), regular files (seenFile) and the rest: symbolic links,
	// directories it skipped or could not read (seenOther).
	seen map[string]seenKind
}

type seenKind uint8

const (
	seenDir seenKind = iota + 1
	seenFile
	seenOther
)

// missing returns an error wrapping fs.ErrNotExist, as resolve would,
// when the index shows that rel (clean, relative) is not in the checkout:
// every directory on the way was read by the walk and one component was
// not there. It returns nil when rel was seen, or when the index cannot
// tell (a symbolic link or a skipped directory on the way): a caller then
// asks the filesystem. It costs no system call, which matters where every
// kustomization root of a checkout is tried for one path.
func (ix *index) missing(rel string) error {
	for i := 0; rel != ""; {
		j := strings.IndexByte(rel[i:], '/')
		prefix := rel
		if j >= 0 {
			prefix = rel[:i+j]
		}
		kind, ok := ix.seen[prefix]
		switch {
		case !ok:
			return fmt.Errorf("%s: %w", prefix, fs.ErrNotExist)
		case j < 0 || kind != seenDir:
			return nil
		}
		i += j + 1
	}
	return nil
}

func key(kind, name string) string { return kind + "\x00" + name }

func (c *checkout) index() (*index, error) {
	c.once.Do(func() { c.ix, c.err = buildIndex(c) })
	return c.ix, c.err
}

// isKustomization reports whether a file name is one kustomize reads.
func isKustomization(name string) bool {
	return name == "kustomization.yaml" || name == "kustomization.yml" || name == "Kustomization"
}

func buildIndex(c *checkout) (*index, error) {
	root, err := c.open()
	if err != nil {
		return nil, err
	}
	defer root.Close()
	ix := &index{
		byKey:     map[string][]int32{},
		files:     map[string][]int32{},
		dirs:      map[string]bool{},
		kusts:     map[string]*kustFile{},
		charts:    map[string]bool{},
		resources: map[string]bool{},
		patches:   map[string]bool{},
		seen:      map[string]seenKind{},
	}
	var files, kfiles []string
	fsys := root.FS()
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == "." {
				return err
			}
			ix.skipped = append(ix.skipped, p)
			ix.seen[p] = seenOther // a directory that could not be read
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			ix.skipped = append(ix.skipped, p) // never followed while indexing
			ix.seen[p] = seenOther
			return nil
		}
		if d.IsDir() {
			if p != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules") {
				ix.seen[p] = seenOther
				return fs.SkipDir
			}
			if p != "." {
				ix.dirs[p] = true
				ix.seen[p] = seenDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			ix.seen[p] = seenOther
			return nil
		}
		ix.seen[p] = seenFile
		name := d.Name()
		switch {
		case isKustomization(name):
			kfiles = append(kfiles, p)
		case name == "Chart.yaml":
			ix.charts[dirOf(p)] = true
		default:
			switch strings.ToLower(path.Ext(name)) {
			case ".yaml", ".yml", ".json":
				files = append(files, p)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("indexing %s: %w", c.dir, err)
	}
	// Chart templates are not manifests: leave them out.
	files = slices.DeleteFunc(files, func(p string) bool { return inChart(ix.charts, p) })

	type parsed struct {
		entries []entry
		skip    bool
	}
	// Read directory by directory: one sub-root per directory makes every
	// file a single openat, and os.Root still refuses any escape.
	results := make([]parsed, len(files))
	var groups [][2]int // [start, end) of files sharing a directory
	for i := range files {
		if i == 0 || dirOf(files[i]) != dirOf(files[i-1]) {
			groups = append(groups, [2]int{i, i})
		}
		groups[len(groups)-1][1] = i + 1
	}
	var wg sync.WaitGroup
	work := make(chan [2]int)
	for range max(1, min(runtime.GOMAXPROCS(0), 16)) {
		wg.Go(func() {
			for g := range work {
				dir := root
				if d := dirOf(files[g[0]]); d != "" {
					sub, err := root.OpenRoot(filepath.FromSlash(d))
					if err != nil {
						for i := g[0]; i < g[1]; i++ {
							results[i].skip = true
						}
						continue
					}
					dir = sub
				}
				for i := g[0]; i < g[1]; i++ {
					es, ok := readEntries(dir, path.Base(files[i]), files[i])
					results[i] = parsed{es, !ok}
				}
				if dir != root {
					dir.Close()
				}
			}
		})
	}
	for _, g := range groups {
		work <- g
	}
	close(work)
	wg.Wait()
	for i, p := range files {
		if results[i].skip {
			ix.skipped = append(ix.skipped, p)
			continue
		}
		ids := make([]int32, 0, len(results[i].entries))
		for _, e := range results[i].entries {
			id := int32(len(ix.entries))
			ix.entries = append(ix.entries, e)
			ids = append(ids, id)
			k := key(e.kind, e.name)
			ix.byKey[k] = append(ix.byKey[k], id)
		}
		ix.files[p] = ids
	}
	for _, p := range kfiles {
		if k := readKustomization(root, p); k != nil {
			if _, dup := ix.kusts[k.dir]; !dup {
				ix.kusts[k.dir] = k
				ix.kdirs = append(ix.kdirs, k.dir)
			}
		}
	}
	slices.Sort(ix.kdirs)
	ix.markKustomizeFiles()
	return ix, nil
}

// dirOf is path.Dir with "" for the root.
func dirOf(p string) string {
	d := path.Dir(p)
	if d == "." {
		return ""
	}
	return d
}

// under reports whether p is dir or inside it ("" is the root).
func under(p, dir string) bool {
	return dir == "" || p == dir || strings.HasPrefix(p, dir) && len(p) > len(dir) && p[len(dir)] == '/'
}

// inChart reports whether p lies in a Helm chart's directory: templates
// and values files are not manifests.
func inChart(charts map[string]bool, p string) bool {
	for d := dirOf(p); ; d = dirOf(d) {
		if charts[d] {
			return true
		}
		if d == "" {
			return false
		}
	}
}

// readEntries reads name in dir (p is its path from the checkout root)
// and lists its objects.
func readEntries(dir *os.Root, name, p string) ([]entry, bool) {
	data, err := readLimited(dir, name)
	if err != nil {
		return nil, false
	}
	es, ok, _ := parseEntries(p, data)
	return es, ok
}

// readLimited reads a regular file of dir, refusing files over
// maxFileBytes.
func readLimited(dir *os.Root, name string) ([]byte, error) {
	f, err := dir.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", name)
	}
	if fi.Size() > maxFileBytes {
		return nil, fmt.Errorf("%s: %w", name, yamledit.ErrTooLarge)
	}
	// One read of the size the file has (and one more to see its end),
	// not io.ReadAll's growing buffer: most manifests are a few KiB.
	data := make([]byte, 0, fi.Size()+1)
	for {
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if len(data) > maxFileBytes {
			return nil, fmt.Errorf("%s: %w", name, yamledit.ErrTooLarge)
		}
		if errors.Is(err, io.EOF) {
			return data, nil
		}
		if err != nil {
			return nil, err
		}
		if len(data) == cap(data) { // the file grew
			data = slices.Grow(data, 4096)
		}
	}
}

// parseEntries lists the objects of a file's content. ok is false for a
// template or a file that does not parse.
func parseEntries(p string, data []byte) ([]entry, bool, error) {
	f, ok := manifest.DecodeForReading(p, data, maxFileBytes)
	if !ok {
		var err error
		if f, err = yamledit.Parse(p, data, yamledit.Options{MaxBytes: maxFileBytes}); err != nil {
			return nil, false, err
		}
		if errors.Is(f.NotEditable, yamledit.ErrTemplate) {
			return nil, false, f.NotEditable
		}
	}
	set := manifest.FromFiles(f)
	out := make([]entry, 0, len(set.Objects))
	for _, o := range set.Objects {
		out = append(out, entry{
			file:  p,
			doc:   o.Pos.Document,
			line:  o.Pos.Line,
			group: groupOf(o.Ref.APIVersion),
			kind:  o.Ref.Kind,
			ns:    o.Ref.Namespace,
			name:  o.Ref.Name,
		})
	}
	return out, true, nil
}
