package sourcemap

import (
	"bufio"
	"bytes"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/kmend/kmend/internal/lazyre"
)

// chartFiles is what a chart in a checkout says about one object: the
// template that renders its kind and the chart's default values file.
type chartFiles struct {
	template string // relative to the checkout root; "" when none or several
	values   string // the chart's values.yaml, "" when it has none
	note     string // why template is empty, when it is
}

// kindLine matches a template's kind: line (quoted or not, at any indent:
// templates wrap documents in conditionals).
var kindLine = lazyre.New(`^\s*kind:\s*["']?([A-Za-z0-9]+)["']?\s*(#.*)?$`)

// chartFilesFor reads the chart in dir (a real directory of the checkout)
// for the template rendering kind. Templates are read through os.Root;
// partials (files starting with _) and NOTES.txt render nothing. When
// several templates render the kind, the one named after it
// (deployment.yaml for a Deployment) is taken, else the only one that
// writes the object's name literally (templateNaming), else none.
func (c *checkout) chartFilesFor(dir, kind, objName string) chartFiles {
	var out chartFiles
	root, err := c.open()
	if err != nil {
		out.note = err.Error()
		return out
	}
	defer root.Close()
	values := path.Join(dir, "values.yaml")
	if fi, err := root.Stat(values); err == nil && fi.Mode().IsRegular() {
		out.values = values
	}
	var hits []string
	tdir := path.Join(dir, "templates")
	_ = fs.WalkDir(root.FS(), tdir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		name := d.Name()
		ext := strings.ToLower(path.Ext(name))
		if strings.HasPrefix(name, "_") || (ext != ".yaml" && ext != ".yml") {
			return nil
		}
		data, err := readLimited(root, p)
		if err != nil {
			return nil
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 64<<10), maxFileBytes)
		for sc.Scan() {
			if m := kindLine.FindStringSubmatch(sc.Text()); m != nil && m[1] == kind {
				hits = append(hits, p)
				break
			}
		}
		return nil
	})
	slices.Sort(hits)
	switch {
	case len(hits) == 1:
		out.template = hits[0]
	case len(hits) > 1:
		for _, h := range hits {
			if strings.EqualFold(strings.TrimSuffix(path.Base(h), path.Ext(h)), kind) {
				out.template = h
				return out
			}
		}
		if t := templateNaming(root, hits, objName); t != "" {
			out.template = t
			return out
		}
		out.note = "several templates render a " + kind + ": " + strings.Join(hits, ", ")
	default:
		out.note = "no template of chart " + orRoot(dir) + " renders a " + kind
	}
	return out
}

// qualify names a path of repository repo at revision rev as seen from a
// Location in locRepo at locRef: as is when they are the same repository
// and revision, else "<repo>//<path>[?ref=<rev>]".
func qualify(repo, rev, locRepo, locRef, p string) string {
	if repo == locRepo && (rev == "" || rev == locRef) {
		return p
	}
	s := repo + "//" + p
	if rev != "" {
		s += "?ref=" + rev
	}
	return s
}
