package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/kmend/kmend/internal/lazyre"
)

// ControlFile is the name of a control's definition inside its directory;
// the fixtures beside it are FailingFile, FixedFile and PassingFile.
const (
	ControlFile = "control.yaml"
	FailingFile = "failing.yaml"
	FixedFile   = "fixed.yaml"
	PassingFile = "passing.yaml"
)

// Error is a catalog problem at a place in a file.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// LoadBuiltin loads the embedded catalog, compiled (see CompiledFile).
func LoadBuiltin() (*Catalog, error) {
	cs, err := builtin()
	if err != nil {
		return nil, err
	}
	return New(cs...)
}

// LoadDir loads the controls of a user's catalog directory.
func LoadDir(dir string) ([]*Control, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("catalog directory: %w", err)
	}
	return LoadFS(os.DirFS(dir), ".", dir)
}

// Load returns the built-in catalog extended with the controls of dirs.
func Load(dirs ...string) (*Catalog, error) {
	cs, err := builtin()
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, d := range dirs {
		more, err := LoadDir(d)
		errs = append(errs, err)
		cs = append(cs, more...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return New(cs...)
}

// LoadFS loads every <dir>/control.yaml below root in fsys. display is the
// name shown for root in errors and Source. All problems are returned
// together; the controls that loaded cleanly are returned too.
func LoadFS(fsys fs.FS, root, display string) ([]*Control, error) {
	var files []string
	var errs []error
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, &Error{File: path.Join(display, p), Msg: err.Error()})
			return nil
		}
		if !d.IsDir() && d.Name() == ControlFile {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	// Controls are parsed in parallel; results keep the walk's order.
	controls := make([]*Control, len(files))
	perr := make([]error, len(files))
	var wg sync.WaitGroup
	for i, p := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data, err := fs.ReadFile(fsys, p)
			if err != nil {
				perr[i] = &Error{File: path.Join(display, p), Msg: err.Error()}
				return
			}
			if controls[i], perr[i] = Parse(path.Join(display, p), data); perr[i] == nil {
				controls[i].Dir = path.Dir(path.Join(display, p))
			}
		}()
	}
	wg.Wait()
	var out []*Control
	for i := range files {
		if perr[i] != nil {
			errs = append(errs, perr[i])
			continue
		}
		out = append(out, controls[i])
	}
	if len(out) == 0 && len(errs) == 0 {
		errs = append(errs, &Error{File: display, Msg: "no " + ControlFile + " found (a catalog directory holds one directory per control)"})
	}
	return out, errors.Join(errs...)
}

var lineRE = lazyre.New(`line (\d+): (.*)`)

// Parse decodes and validates one control file strictly.
func Parse(file string, data []byte) (*Control, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	c := &Control{}
	if err := dec.Decode(c); err != nil {
		return nil, yamlError(file, err)
	}
	c.Source = file
	v := &validator{file: file, data: data}
	v.control(c)
	return c, errors.Join(v.errs...)
}

// yamlError turns a YAML library error ("yaml: unmarshal errors:\n  line 3:
// ...") into Errors with the file and line.
func yamlError(file string, err error) error {
	var errs []error
	for _, l := range strings.Split(err.Error(), "\n") {
		if m := lineRE.FindStringSubmatch(l); m != nil {
			var n int
			fmt.Sscan(m[1], &n)
			errs = append(errs, &Error{File: file, Line: n, Msg: m[2]})
		}
	}
	if len(errs) == 0 {
		return &Error{File: file, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	return errors.Join(errs...)
}

// lineOf returns the line of the value at keys in the control's YAML, or of
// the nearest ancestor that exists.
func lineOf(root *yaml.Node, keys ...string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, k := range keys {
		if n.Kind != yaml.MappingNode {
			return line
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				line = n.Content[i].Line
				n = n.Content[i+1]
				found = true
				break
			}
		}
		if !found {
			return line
		}
	}
	return line
}

// SortByID orders controls by ID.
func SortByID(cs []*Control) {
	slices.SortFunc(cs, func(a, b *Control) int { return strings.Compare(a.ID, b.ID) })
}
