package helm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"helm.sh/helm/v4/pkg/chart/common"
	commonutil "helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/engine"
	k8sversion "k8s.io/apimachinery/pkg/util/version"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/lazyre"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/patch"
	"github.com/kmend/kmend/internal/yamledit"
)

// Defaults of a Renderer.
const (
	DefaultRelease     = "release"
	DefaultNamespace   = "default"
	DefaultKubeVersion = "v1.34.0"
)

// HookAnnotation marks Helm hooks.
const HookAnnotation = "helm.sh/hook"

// Renderer renders charts of one repository with the Helm SDK (Helm's
// template engine, as helm template does, without a cluster: lookup
// returns nothing).
type Renderer struct {
	// Repo is the repository's directory ("." when empty). Chart and values
	// paths are relative to it and may not leave it.
	Repo string
	// Release and Namespace are the release's name and namespace
	// (.Release.Name, .Release.Namespace); DefaultRelease and
	// DefaultNamespace when empty.
	Release   string
	Namespace string
	// KubeVersion is .Capabilities.KubeVersion (DefaultKubeVersion when
	// empty).
	KubeVersion string
	// SkipTests leaves out test hooks (helm.sh/hook: test), as helm
	// template --skip-tests does.
	SkipTests bool
}

func (r Renderer) release() string   { return cmp(r.Release, DefaultRelease) }
func (r Renderer) namespace() string { return cmp(r.Namespace, DefaultNamespace) }

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Object is one rendered Kubernetes object. Its manifest.Object has the
// node (a kyaml RNode), the reference and a Pos whose File is the template
// (relative to the repository), Document the index of the object's
// document in that template's output, and Line 0: a rendered object has no
// line of its own in a file.
type Object struct {
	manifest.Object
	// Source is the template as helm template's "# Source:" comment names
	// it: <chart>/templates/deployment.yaml, or
	// <chart>/charts/<subchart>/templates/... for a subchart.
	Source string
	// Template is the template file, relative to the repository.
	Template string
	// Hook is the object's helm.sh/hook annotation, "" for a plain object.
	Hook string
}

// Render renders the chart at chartDir (relative to the current
// directory, taken as the repository) with the given values, in Helm's
// precedence order: the chart's values.yaml, then each source, later ones
// winning. See Renderer.Render.
func Render(chartDir string, values ...ValuesSource) ([]Object, error) {
	return Renderer{}.Render(chartDir, values...)
}

// Render renders the chart at chartDir (relative to r.Repo) with the given
// values, later sources winning, as helm template --values a --values b
// does. Subcharts must be present in charts/ (ErrMissingDependency
// otherwise: nothing is downloaded). A template that fails gives a
// *RenderError naming the template file and line. Objects come sorted by
// template and document; NOTES.txt, partials and empty documents are left
// out, hooks are kept (Object.Hook).
func (r Renderer) Render(chartDir string, values ...ValuesSource) ([]Object, error) {
	rp, err := openRepo(r.Repo)
	if err != nil {
		return nil, err
	}
	defer rp.close()
	s, err := newSession(rp, r, chartDir)
	if err != nil {
		return nil, err
	}
	ls, err := loadLayers(rp, s, values)
	if err != nil {
		return nil, err
	}
	out, err := s.renderWith(ls.merged(), nil)
	if err != nil {
		return nil, err
	}
	return out.objects, nil
}

// session is one chart, read once, rendered as often as needed.
type session struct {
	repo     *repo
	r        Renderer
	dir      string // chart directory, relative to the repository
	files    []*archive.BufferedFile
	chart    *chart.Chart // as loaded, for metadata and templates; never rendered
	caps     *common.Capabilities
	refs     map[string]*templateRefs // by Helm template name
	defaults string                   // the chart's values.yaml, relative to the repository; "" when absent
	remote   *RemoteChart             // the chart's Helm repository; nil for a chart of the repository
}

// reopen reads the session's chart again through rp (a view of the
// repository with edited files): a chart of the repository from its
// directory, a fetched chart from the same archive files.
func (s *session) reopen(rp *repo) (*session, error) {
	if s.remote != nil {
		return loadSession(rp, s.r, s.dir, s.files, s.remote)
	}
	return newSession(rp, s.r, s.dir)
}

func newSession(rp *repo, r Renderer, chartDir string) (*session, error) {
	dir, err := rp.rel(chartDir)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", chartDir, err)
	}
	files, err := rp.chartFiles(dir)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", dir, err)
	}
	return loadSession(rp, r, dir, files, nil)
}

// loadSession reads a chart from its files: a directory of the repository
// (remote nil), or the archive of a chart fetched from a Helm repository,
// whose files are no file of the repository (dir names it then, and its
// values.yaml is never edited).
func loadSession(rp *repo, r Renderer, dir string, files []*archive.BufferedFile, remote *RemoteChart) (*session, error) {
	ch, err := loader.LoadFiles(files)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", dir, err)
	}
	if err := ch.Validate(); err != nil {
		return nil, fmt.Errorf("chart %s: %w", dir, err)
	}
	if ch.Metadata.Type == "library" {
		return nil, fmt.Errorf("chart %s: %w", dir, ErrLibraryChart)
	}
	if err := checkDependencies(ch); err != nil {
		return nil, fmt.Errorf("chart %s: %w", dir, err)
	}
	kv, err := parseKubeVersion(cmp(r.KubeVersion, DefaultKubeVersion))
	if err != nil {
		return nil, fmt.Errorf("kube version %q: %w", r.KubeVersion, err)
	}
	caps := common.DefaultCapabilities.Copy()
	caps.KubeVersion = *kv
	s := &session{repo: rp, r: r, dir: dir, files: files, chart: ch, caps: caps, remote: remote}
	if remote == nil && slices.ContainsFunc(files, func(f *archive.BufferedFile) bool { return f.Name == "values.yaml" }) {
		s.defaults = path.Join(dir, "values.yaml")
	}
	s.refs = collectRefs(ch)
	return s, nil
}

// parseKubeVersion parses the Kubernetes version of .Capabilities as
// Helm 3 did, keeping only its numeric part (v1.34.0 for 1.34.0-gke.1),
// where Helm 4's ParseKubeVersion keeps the suffix in
// .Capabilities.KubeVersion.Version.
func parseKubeVersion(v string) (*common.KubeVersion, error) {
	sv, err := k8sversion.ParseGeneric(v)
	if err != nil {
		return nil, err
	}
	return common.ParseKubeVersion("v" + sv.String())
}

// checkDependencies refuses a chart whose Chart.yaml (or requirements.yaml)
// declares dependencies that are not in charts/, recursively.
func checkDependencies(ch *chart.Chart) error {
	var missing []string
	for _, d := range ch.Metadata.Dependencies {
		if !slices.ContainsFunc(ch.Dependencies(), func(c *chart.Chart) bool { return c.Name() == d.Name }) {
			missing = append(missing, d.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s (kmend renders offline: run helm dependency build and commit charts/, or vendor them)",
			ErrMissingDependency, strings.Join(missing, ", "))
	}
	for _, c := range ch.Dependencies() {
		if err := checkDependencies(c); err != nil {
			return fmt.Errorf("subchart %s: %w", c.Name(), err)
		}
	}
	return nil
}

// rendered is one render of the chart.
type rendered struct {
	objects []Object
	// values are the chart's values as the templates saw them (.Values).
	values map[string]any
}

// renderWith renders the chart with the user-supplied values (already
// merged in precedence order) and, when chartValues is not nil, those
// values in place of the chart's values.yaml. The chart is loaded afresh from its bytes each
// time: Helm prunes disabled subcharts from a loaded chart and templates
// can change value maps that the chart shares, so a loaded chart serves
// one render only.
func (s *session) renderWith(user, chartValues map[string]any) (*rendered, error) {
	ch, err := loader.LoadFiles(s.files)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", s.dir, err)
	}
	if chartValues != nil {
		ch.Values = deepCopy(chartValues)
	}
	vals := deepCopy(user)
	// Helm 4's ProcessDependencies is Helm 3's ProcessDependenciesWithMerge
	// (null values kept through import-values), as helm template uses it.
	if err := chartutil.ProcessDependencies(ch, vals); err != nil {
		return nil, fmt.Errorf("chart %s: %w", s.dir, err)
	}
	opts := common.ReleaseOptions{Name: s.r.release(), Namespace: s.r.namespace(), Revision: 1, IsInstall: true}
	top, err := commonutil.ToRenderValuesWithSchemaValidation(ch, vals, opts, s.caps, true)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", s.dir, err)
	}
	coalesced, _ := top["Values"].(common.Values)
	if err := validateSchemas(ch, coalesced); err != nil {
		return nil, fmt.Errorf("chart %s: values do not meet the chart's schema: %w", s.dir, err)
	}
	out, err := engine.Render(ch, top)
	if err != nil {
		return nil, engineError(s.dir, ch.Name(), err)
	}
	names := make([]string, 0, len(out))
	for name, text := range out {
		base := path.Base(name)
		if strings.HasPrefix(base, "_") || strings.HasSuffix(name, "NOTES.txt") || strings.TrimSpace(text) == "" {
			continue
		}
		names = append(names, name)
	}
	slices.Sort(names)
	res := &rendered{values: coalesced}
	for _, name := range names {
		file, _ := templateFile(s.dir, ch.Name(), name)
		objs, err := parseOutput(name, file, out[name])
		if err != nil {
			return nil, &RenderError{Chart: s.dir, File: file, Line: err.Line, Output: true, Msg: err.Msg, Err: err}
		}
		for _, o := range objs {
			if s.r.SkipTests && isTest(o.Hook) {
				continue
			}
			res.objects = append(res.objects, o)
		}
	}
	return res, nil
}

// parseOutput reads the Kubernetes objects of one template's output.
func parseOutput(name, file, text string) ([]Object, *yamledit.ParseError) {
	f, err := yamledit.Parse(file, []byte(text), yamledit.Options{})
	if err != nil {
		pe, ok := err.(*yamledit.ParseError)
		if !ok {
			pe = &yamledit.ParseError{Path: file, Msg: err.Error()}
		}
		return nil, pe
	}
	var out []Object
	for _, o := range manifest.FromFiles(f).Objects {
		o.Pos.Line = 0
		out = append(out, Object{
			Object:   o,
			Source:   name,
			Template: file,
			Hook:     o.Node.GetAnnotations()[HookAnnotation],
		})
	}
	return out, nil
}

// isTest reports whether a hook annotation names a test hook.
func isTest(hook string) bool {
	for _, h := range strings.Split(hook, ",") {
		if h = strings.TrimSpace(h); h == "test" || h == "test-success" || h == "test-failure" {
			return true
		}
	}
	return false
}

// deepCopy copies a values tree (maps and lists; scalars are immutable).
func deepCopy(v map[string]any) map[string]any {
	out := make(map[string]any, len(v))
	for k, x := range v {
		out[k] = deepCopyValue(x)
	}
	return out
}

func deepCopyValue(x any) any {
	switch t := x.(type) {
	case map[string]any:
		return deepCopy(t)
	case common.Values:
		return deepCopy(t)
	case []any:
		c := make([]any, len(t))
		for i, e := range t {
			c[i] = deepCopyValue(e)
		}
		return c
	}
	return x
}

// mergeValues merges b over a as helm's --values does: maps merge key by
// key, anything else in b replaces.
func mergeValues(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if bm, ok := v.(map[string]any); ok {
			if am, ok := out[k].(map[string]any); ok {
				out[k] = mergeValues(am, bm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// validateSchemas checks values against the values.schema.json of the
// chart and of its subcharts, as Helm does, but offline: a schema that
// refers to another document ($ref to a URL or a file) is refused rather
// than fetched.
func validateSchemas(ch *chart.Chart, values map[string]any) error {
	var errs []string
	if ch.Schema != nil {
		if err := validateSchema(ch.Schema, values); err != nil {
			errs = append(errs, ch.Name()+": "+err.Error())
		}
	}
	for _, sub := range ch.Dependencies() {
		raw, ok := values[sub.Name()]
		if !ok || raw == nil {
			continue
		}
		sv, ok := raw.(map[string]any)
		if !ok {
			if cv, isValues := raw.(common.Values); isValues {
				sv = cv
			} else {
				errs = append(errs, fmt.Sprintf("%s: values are a %T, not a map", sub.Name(), raw))
				continue
			}
		}
		if err := validateSchemas(sub, sv); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// offlineLoader refuses every external schema document.
type offlineLoader struct{}

func (offlineLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema %s is not fetched (kmend renders offline)", url)
}

func validateSchema(schema []byte, values map[string]any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("unable to validate the schema: %v", r)
		}
	}()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return fmt.Errorf("values.schema.json: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(offlineLoader{})
	const url = "file:///values.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		return err
	}
	sch, err := c.Compile(url)
	if err != nil {
		return err
	}
	// The validator wants JSON values: round-trip through encoding/json.
	b, err := json.Marshal(values)
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return err
	}
	return sch.Validate(v)
}

// templateRefs are the values paths a template reads.
type templateRefs struct {
	own     map[string]bool // read by the template itself
	helpers map[string]bool // read by the partials (_*.tpl) of its chart
	prefix  []string        // the values prefix of the template's chart (subcharts)
}

var valuesRef = lazyre.New(`\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)`)

func refsIn(data []byte, prefix []string) map[string]bool {
	out := map[string]bool{}
	for _, m := range valuesRef.FindAllSubmatch(data, -1) {
		p := append(slices.Clone(prefix), strings.Split(strings.TrimPrefix(string(m[1]), "."), ".")...)
		out[strings.Join(p, ".")] = true
	}
	return out
}

// collectRefs reads the .Values paths of every template of the chart and
// its subcharts, keyed by Helm's template name.
func collectRefs(ch *chart.Chart) map[string]*templateRefs {
	out := map[string]*templateRefs{}
	var walk func(c *chart.Chart, prefix []string)
	walk = func(c *chart.Chart, prefix []string) {
		helpers := map[string]bool{}
		for _, t := range c.Templates {
			if strings.HasPrefix(path.Base(t.Name), "_") {
				for k := range refsIn(t.Data, prefix) {
					helpers[k] = true
				}
			}
		}
		for _, t := range c.Templates {
			name := path.Join(c.ChartFullPath(), t.Name)
			out[name] = &templateRefs{own: refsIn(t.Data, prefix), helpers: helpers, prefix: prefix}
		}
		for _, d := range c.Dependencies() {
			walk(d, append(slices.Clone(prefix), d.Name()))
		}
	}
	walk(ch, nil)
	return out
}

// objectKey identifies an object across renders.
func objectKey(o *Object) string {
	return o.Source + "|" + o.Ref.APIVersion + "|" + o.Ref.Kind + "|" + o.Ref.Namespace + "|" + o.Ref.Name
}

// nodeJSON decodes a node into plain JSON values.
func nodeJSON(n *yaml.RNode) (any, error) {
	b, err := patch.JSON(n)
	if err != nil {
		return nil, err
	}
	var v any
	return v, json.Unmarshal(b, &v)
}
