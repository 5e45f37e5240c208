package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/parallel"
	"github.com/kmend/kmend/internal/yamledit"
)

// StdinName is the file name given to objects read from standard input.
const StdinName = "<stdin>"

// Options tune loading.
type Options struct {
	Limits yamledit.Options
	// Stdin is read for the path "-".
	Stdin io.Reader
	// Progress, when set, is called after each file with the count done
	// and the total.
	Progress func(done, total int)
	// DropControlled is for read-only uses of cluster snapshots (kmend
	// locate): the objects of a file that another object of the same file
	// controls (see WithoutControlled) are left out as each file is read,
	// and Set.Files stays empty, so that the trees of the Pods and
	// ReplicaSets of a large snapshot are freed as soon as their file is
	// parsed instead of being kept to the end. Objects controlled from
	// another file are still returned: run WithoutControlled on the whole
	// set as before. Nothing read this way can be edited.
	DropControlled bool
	// Visit, when set with DropControlled, is called in the reading
	// goroutine for each object a file keeps, before the next file is
	// read; it may replace o.Node, for example by Head(o.Node) once the
	// object is checked, so that a large snapshot is never held whole.
	// Calls run concurrently.
	Visit func(o *Object)
	// Kinds, when set with DropControlled, keeps only the objects of the
	// kinds it accepts; in a snapshot List the others are never parsed
	// whole (their heads are read).
	Kinds func(apiVersion, kind string) bool
}

// Set is what Load read: the files, the objects in them, files skipped on
// purpose, and the errors of the files that could not be read. One bad file
// never stops the others.
type Set struct {
	Files   []*yamledit.File
	Objects []Object
	Skipped []Skip
	Errors  []error
}

// Skip is a file left aside on purpose, with why.
type Skip struct {
	Path   string
	Reason string
}

// Load reads files, directories (recursively: *.yaml, *.yml, *.json) and
// "-" for standard input.
func Load(paths []string, opts Options) *Set {
	s := &Set{}
	var files []string
	for _, p := range paths {
		if p == "-" {
			files = append(files, p)
			continue
		}
		more, err := expand(p)
		if err != nil {
			s.Errors = append(s.Errors, err)
		}
		files = append(files, more...)
	}
	// Files are read and parsed in parallel, then added in their order, so
	// the result does not depend on scheduling.
	parsed := make([]parsedFile, len(files))
	parallel.Each(len(files), func(i int) {
		if files[i] != "-" {
			parsed[i] = parseFile(files[i], opts)
		}
	}, func(n int) {
		if opts.Progress != nil {
			opts.Progress(n, len(files))
		}
	})
	for i, f := range files {
		if f == "-" {
			s.stdin(opts)
			continue
		}
		s.merge(parsed[i])
	}
	return s
}

// parsedFile is what reading one file gave: the file and its objects
// (found while the files are read in parallel), or why not.
type parsedFile struct {
	file    *yamledit.File
	objects []Object
	skip    *Skip
	err     error
}

func (s *Set) merge(p parsedFile) {
	switch {
	case p.err != nil:
		s.Errors = append(s.Errors, p.err)
	case p.skip != nil:
		s.Skipped = append(s.Skipped, *p.skip)
	case p.file != nil:
		s.Files = append(s.Files, p.file)
		s.Objects = append(s.Objects, p.objects...)
	case p.objects != nil: // DropControlled: the file itself is not kept
		s.Objects = append(s.Objects, p.objects...)
	}
}

func (s *Set) stdin(opts Options) {
	if opts.Stdin == nil {
		opts.Stdin = os.Stdin
	}
	data, err := io.ReadAll(io.LimitReader(opts.Stdin, limit(opts)+1))
	if err != nil {
		s.Errors = append(s.Errors, fmt.Errorf("%s: %w", StdinName, err))
		return
	}
	if int64(len(data)) > limit(opts) {
		s.Errors = append(s.Errors, fmt.Errorf("%s: %w: over %d bytes (--max-file-size)", StdinName, yamledit.ErrTooLarge, limit(opts)))
		return
	}
	s.add(StdinName, data, opts)
}

func limit(opts Options) int64 {
	if opts.Limits.MaxBytes > 0 {
		return opts.Limits.MaxBytes
	}
	return DefaultMaxBytes
}

// DefaultMaxBytes is the default limit on one input's size (8 MiB), the
// same as yamledit's.
const DefaultMaxBytes = 8 << 20

// expand lists the manifest files of a path.
func expand(p string) ([]string, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, unwrapPathError(err))
	}
	if !info.IsDir() {
		return []string{p}, nil
	}
	var out []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != p && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml", ".json":
			out = append(out, path)
		}
		return nil
	})
	slices.Sort(out)
	return out, err
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// parseFile reads and parses one file; it touches no shared state.
func parseFile(path string, opts Options) parsedFile {
	info, err := os.Stat(path)
	if err != nil {
		return parsedFile{err: fmt.Errorf("%s: %w", path, unwrapPathError(err))}
	}
	if info.Size() > limit(opts) {
		return parsedFile{err: fmt.Errorf("%s: %w: %d bytes, the limit is %d (--max-file-size)", path, yamledit.ErrTooLarge, info.Size(), limit(opts))}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return parsedFile{err: fmt.Errorf("%s: %w", path, unwrapPathError(err))}
	}
	return parseData(path, data, opts)
}

func parseData(path string, data []byte, opts Options) parsedFile {
	if opts.DropControlled {
		// Read only: the checks Parse makes for editing are not needed,
		// and a cluster snapshot's controlled objects need no tree.
		if objs, ok := readList(path, data, opts.Kinds); ok {
			return visited(objs, opts)
		}
		if f, ok := DecodeForReading(path, data, limit(opts)); ok {
			return visited(WithoutControlled(objectsOf(f, nil)), opts)
		}
	}
	f, err := yamledit.Parse(path, data, opts.Limits)
	if err != nil {
		if errors.Is(err, yamledit.ErrTemplate) {
			return parsedFile{skip: &Skip{Path: path, Reason: "a Helm/Go template, not plain YAML"}}
		}
		return parsedFile{err: err}
	}
	objs := objectsOf(f, nil)
	if opts.DropControlled {
		return visited(WithoutControlled(objs), opts)
	}
	return parsedFile{file: f, objects: objs}
}

// visited is the result of a file read with DropControlled: its objects
// of the kinds Options.Kinds accepts, each passed to Options.Visit.
func visited(objs []Object, opts Options) parsedFile {
	if opts.Kinds != nil {
		objs = slices.DeleteFunc(objs, func(o Object) bool { return !opts.Kinds(o.Ref.APIVersion, o.Ref.Kind) })
	}
	if opts.Visit != nil {
		for i := range objs {
			opts.Visit(&objs[i])
		}
	}
	if objs == nil {
		objs = []Object{}
	}
	return parsedFile{objects: slices.Clip(objs)}
}

func (s *Set) add(path string, data []byte, opts Options) { s.merge(parseData(path, data, opts)) }

// FromFiles collects the objects of files already parsed.
func FromFiles(files ...*yamledit.File) *Set {
	s := &Set{}
	for _, f := range files {
		s.addFile(f)
	}
	return s
}

func (s *Set) addFile(f *yamledit.File) {
	s.Files = append(s.Files, f)
	s.Objects = objectsOf(f, s.Objects)
}

// objectsOf appends the objects of f to out.
func objectsOf(f *yamledit.File, out []Object) []Object {
	for _, d := range f.Docs {
		if d.Node != nil {
			out = object(out, f, d, d.Node, nil)
		}
	}
	return out
}

// object appends n if it is a Kubernetes object, or the items of a List.
func object(out []Object, f *yamledit.File, d *yamledit.Doc, n *yaml.RNode, inDoc []string) []Object {
	if n.YNode().Kind != yaml.MappingNode {
		return out
	}
	ref, ok := ObjectRefOf(n)
	if !ok {
		return out // not Kubernetes YAML: skipped quietly
	}
	if strings.HasSuffix(ref.Kind, "List") {
		if items := field(n.YNode(), "items"); items != nil {
			if items.Kind == yaml.SequenceNode {
				for i, it := range items.Content {
					out = object(out, f, d, yaml.NewRNode(it), append(slices.Clone(inDoc), "items", strconv.Itoa(i)))
				}
			}
			return out
		}
	}
	line := n.YNode().Line
	if line == 0 {
		line = d.Line
	}
	return append(out, Object{
		Node:  n,
		Ref:   ref,
		Pos:   finding.Position{File: f.Path, Document: d.Index, Line: line},
		InDoc: inDoc,
	})
}

// DecodeForReading decodes data, the content of the file at path, into the
// documents yamledit.Parse would give (the same nodes, lines and document
// indexes, hence the same objects), without the checks Parse makes for
// editing (encoding, line breaks, anchors, duplicate keys): about a
// sixth of Parse's time. The File is for reading objects only: it must
// never be edited or rendered. ok is false, and the caller should use
// yamledit.Parse, for data over maxBytes, with a template ("{{") or an
// alias ("*", which Parse bounds), or that does not decode.
func DecodeForReading(path string, data []byte, maxBytes int64) (f *yamledit.File, ok bool) {
	if int64(len(data)) > maxBytes || bytes.Contains(data, []byte("{{")) || bytes.IndexByte(data, '*') >= 0 {
		return nil, false
	}
	defer func() {
		if recover() != nil { // yaml.v3 panics on some inputs
			f, ok = nil, false
		}
	}()
	f = &yamledit.File{Path: path, Data: data}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for i := 0; ; i++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return f, true
		}
		if err != nil {
			return nil, false
		}
		// Only mappings can be objects: documents that are empty, null or
		// scalars are kept as documents without a node.
		d := &yamledit.Doc{Index: i, Line: n.Line}
		if len(n.Content) > 0 && n.Content[0].Kind == yaml.MappingNode {
			d.Line, d.Node = n.Content[0].Line, yaml.NewRNode(n.Content[0])
		}
		f.Docs = append(f.Docs, d)
	}
}
