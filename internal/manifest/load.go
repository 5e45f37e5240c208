package manifest

import (
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

// parsedFile is what reading one file gave.
type parsedFile struct {
	file *yamledit.File
	skip *Skip
	err  error
}

func (s *Set) merge(p parsedFile) {
	switch {
	case p.err != nil:
		s.Errors = append(s.Errors, p.err)
	case p.skip != nil:
		s.Skipped = append(s.Skipped, *p.skip)
	case p.file != nil:
		s.addFile(p.file)
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
	f, err := yamledit.Parse(path, data, opts.Limits)
	if err != nil {
		if errors.Is(err, yamledit.ErrTemplate) {
			return parsedFile{skip: &Skip{Path: path, Reason: "a Helm/Go template, not plain YAML"}}
		}
		return parsedFile{err: err}
	}
	return parsedFile{file: f}
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
	for _, d := range f.Docs {
		if d.Node == nil {
			continue
		}
		s.object(f, d, d.Node, nil)
	}
}

// object records n if it is a Kubernetes object, and the items of a List.
func (s *Set) object(f *yamledit.File, d *yamledit.Doc, n *yaml.RNode, inDoc []string) {
	if n.YNode().Kind != yaml.MappingNode {
		return
	}
	ref, ok := ObjectRefOf(n)
	if !ok {
		return // not Kubernetes YAML: skipped quietly
	}
	if strings.HasSuffix(ref.Kind, "List") && n.Field("items") != nil {
		items := n.Field("items").Value
		if items.YNode().Kind == yaml.SequenceNode {
			for i, it := range items.YNode().Content {
				s.object(f, d, yaml.NewRNode(it), append(slices.Clone(inDoc), "items", strconv.Itoa(i)))
			}
		}
		return
	}
	line := n.YNode().Line
	if line == 0 {
		line = d.Line
	}
	s.Objects = append(s.Objects, Object{
		Node:  n,
		Ref:   ref,
		Pos:   finding.Position{File: f.Path, Document: d.Index, Line: line},
		InDoc: inDoc,
	})
}
