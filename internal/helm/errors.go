package helm

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/kmend/kmend/internal/lazyre"
)

// Errors wrapped by the package's errors.
var (
	// ErrEscapes: a chart or values path leaves the repository (absolute
	// outside it, "..", or a symbolic link leading out).
	ErrEscapes = errors.New("path leaves the repository")
	// ErrMissingDependency: Chart.yaml declares a dependency that is not in
	// the chart's charts/ directory. kmend renders offline and never
	// downloads charts.
	ErrMissingDependency = errors.New("chart dependency missing from charts/")
	// ErrExternalChart: a HelmRelease or Application names a chart that is
	// not a directory of this repository and is not fetched: a Flux chartRef
	// to a HelmChart, a HelmRepository or OCIRepository not defined in the
	// repository, a source URL that is neither HTTP(S) nor OCI, or a chart
	// of a Helm repository or OCI registry planned without Options.Charts.
	ErrExternalChart = errors.New("chart is not in the repository")
	// ErrPatchOnly: a HelmRelease names no chart (neither
	// spec.chart.spec.chart nor spec.chartRef), which Flux does not accept:
	// it is a kustomize patch of a HelmRelease defined elsewhere (an
	// overlay's values), not a release to render.
	ErrPatchOnly = errors.New("a patch of a HelmRelease, not a release")
	// ErrLibraryChart: a library chart renders nothing by itself.
	ErrLibraryChart = errors.New("library chart")
	// ErrNotValues: the node that should hold values is neither a mapping,
	// nor null, nor (for Argo CD helm.values) a string of YAML.
	ErrNotValues = errors.New("not a values mapping")
)

// RenderError is a chart that failed to render, with the template and
// line when Helm gives them. Line is in the template for template errors,
// and in the template's output for output that is not valid YAML
// (Output is then true).
type RenderError struct {
	// Chart is the chart directory, relative to the repository.
	Chart string
	// File is the template, relative to the repository; "" when unknown.
	File   string
	Line   int
	Column int
	// Output is true when Line counts lines of the template's rendered
	// output rather than of the template itself.
	Output bool
	Msg    string
	Err    error
}

func (e *RenderError) Error() string {
	where := e.Chart
	if e.File != "" {
		where = e.File
	}
	switch {
	case e.Line > 0 && e.Output:
		return fmt.Sprintf("%s: line %d of the rendered output: %s", where, e.Line, e.Msg)
	case e.Line > 0 && e.Column > 0:
		return fmt.Sprintf("%s:%d:%d: %s", where, e.Line, e.Column, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", where, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", where, e.Msg)
}

func (e *RenderError) Unwrap() error { return e.Err }

// helmLocation matches the template locations in Helm's engine errors:
// "parse error at (web/templates/x.yaml:7): ...",
// "template: web/templates/x.yaml:12:20: executing ...",
// "execution error at (web/templates/x.yaml:3:4): ...".
var helmLocation = lazyre.New(`([^\s():"]+):(\d+)(?::(\d+))?`)

// engineBreaks are the line breaks of Helm 4's execution errors, which
// give the location, the action and the message each on its own indented
// line; joined by spaces they read as Helm 3's one-line errors.
var engineBreaks = lazyre.New(`[ \t]*\n[ \t]*`)

// engineError turns an error of Helm's engine into a *RenderError that
// names the template file in the repository: the innermost location Helm
// gives (a helper called through include fails in the helper). chartDir
// is the chart's directory and name the chart's name (the first segment of
// Helm's template names).
func engineError(chartDir, name string, err error) *RenderError {
	re := &RenderError{Chart: chartDir, Msg: err.Error(), Err: err}
	msg := engineBreaks.ReplaceAllString(strings.TrimSpace(err.Error()), " ")
	for _, m := range helmLocation.FindAllStringSubmatchIndex(msg, -1) {
		file, ok := templateFile(chartDir, name, msg[m[2]:m[3]])
		if !ok {
			continue
		}
		re.File = file
		re.Line, _ = strconv.Atoi(msg[m[4]:m[5]])
		re.Column = 0
		if m[6] >= 0 {
			re.Column, _ = strconv.Atoi(msg[m[6]:m[7]])
		}
		re.Msg = strings.TrimSpace(strings.TrimLeft(msg[m[1]:], "):"))
	}
	return re
}

// templateFile maps a Helm template name ("web/templates/x.yaml",
// "web/charts/db/templates/y.yaml") to its file in the repository.
func templateFile(chartDir, name, tmpl string) (string, bool) {
	rest, ok := strings.CutPrefix(tmpl, name+"/")
	if !ok || rest == "" {
		return "", false
	}
	return path.Join(chartDir, rest), true
}
