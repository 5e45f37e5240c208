package githubfake

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// SpecFile is where GitHub's trimmed OpenAPI description lives, relative to
// the module root.
const SpecFile = "fixtures/github/api.github.com.trimmed.json"

// WebhookDir is where the webhook payloads live, relative to the module root.
const WebhookDir = "fixtures/github/webhooks"

// spec is GitHub's OpenAPI description, loaded and validated once per path
// per test binary and shared by every Fake (read-only after loading).
type spec struct {
	doc *openapi3.T
	// ops holds every operation as "METHOD /template".
	ops []string
	// slashRoutes match the templates whose last path parameter may
	// contain slashes, which kin-openapi's routers cannot match.
	slashRoutes []slashRoute
	basicError  *openapi3.SchemaRef
}

type slashRoute struct {
	tmpl   string
	re     *regexp.Regexp
	params []string
}

// slashTemplates are the templates with a parameter that GitHub clients send
// with literal slashes (contents paths, refs, and refs in commit paths).
var slashTemplates = []string{
	"/repos/{owner}/{repo}/contents/{path}",
	"/repos/{owner}/{repo}/git/ref/{ref}",
	"/repos/{owner}/{repo}/git/refs/{ref}",
	"/repos/{owner}/{repo}/commits/{ref}/check-runs",
}

var (
	specMu    sync.Mutex
	specCache = map[string]*specEntry{}
)

type specEntry struct {
	once sync.Once
	s    *spec
	err  error
}

// loadSpec loads the description at path once per test binary.
func loadSpec(path string) (*spec, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	specMu.Lock()
	e := specCache[abs]
	if e == nil {
		e = &specEntry{}
		specCache[abs] = e
	}
	specMu.Unlock()
	e.once.Do(func() { e.s, e.err = readSpec(abs) })
	return e.s, e.err
}

func readSpec(path string) (*spec, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("validate %s: %w", path, err)
	}
	s := &spec{doc: doc}
	for tmpl, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			s.ops = append(s.ops, method+" "+tmpl)
		}
	}
	sort.Strings(s.ops)
	for _, tmpl := range slashTemplates {
		if doc.Paths.Value(tmpl) == nil {
			continue
		}
		s.slashRoutes = append(s.slashRoutes, compileSlashRoute(tmpl))
	}
	if doc.Components == nil || doc.Components.Schemas["basic-error"] == nil {
		return nil, errors.New("spec has no basic-error schema")
	}
	s.basicError = doc.Components.Schemas["basic-error"]
	return s, nil
}

var paramRe = regexp.MustCompile(`\{([^{}]+)\}`)

// compileSlashRoute turns a template into a regular expression where the
// last parameter matches one or more segments (or nothing, for the root of
// contents) and the others exactly one segment.
func compileSlashRoute(tmpl string) slashRoute {
	names := paramRe.FindAllStringSubmatch(tmpl, -1)
	last := names[len(names)-1][0]
	var b strings.Builder
	b.WriteString("^")
	rest := tmpl
	r := slashRoute{tmpl: tmpl}
	for _, m := range names {
		i := strings.Index(rest, m[0])
		b.WriteString(regexp.QuoteMeta(rest[:i]))
		if m[0] == last {
			if strings.HasSuffix(tmpl, m[0]) {
				b.WriteString("(.*)")
			} else {
				b.WriteString("(.+?)")
			}
		} else {
			b.WriteString("([^/]+)")
		}
		r.params = append(r.params, m[1])
		rest = rest[i+len(m[0]):]
	}
	b.WriteString(regexp.QuoteMeta(rest))
	b.WriteString("$")
	r.re = regexp.MustCompile(b.String())
	return r
}

// match matches an escaped path (without the API prefix). It returns the
// escaped parameters.
func (r slashRoute) match(escapedPath string) (map[string]string, bool) {
	m := r.re.FindStringSubmatch(escapedPath)
	if m == nil {
		// contents of the root: "/repos/o/r/contents" with no path at all.
		if strings.HasSuffix(r.tmpl, "/contents/{path}") {
			m = r.re.FindStringSubmatch(escapedPath + "/")
		}
		if m == nil {
			return nil, false
		}
	}
	params := make(map[string]string, len(r.params))
	for i, name := range r.params {
		params[name] = m[i+1]
	}
	return params, true
}

// findModuleFile finds rel (a path relative to the module root) by walking
// up from the working directory and from this package's source directory to
// the directory holding go.mod.
func findModuleFile(rel string) (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		starts = append(starts, filepath.Dir(file))
	}
	for _, dir := range starts {
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				p := filepath.Join(dir, filepath.FromSlash(rel))
				if _, err := os.Stat(p); err == nil {
					return p, nil
				}
				break
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", fmt.Errorf("%s not found above the working directory or the githubfake sources", rel)
}

// uriFormat checks "format: uri" strings, which kin-openapi does not check by
// default: an absolute URL with a scheme and a host.
var uriFormat = openapi3.NewCallbackValidator(func(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URI", s)
	}
	return nil
})

func schemaOptions() []openapi3.SchemaValidationOption {
	return []openapi3.SchemaValidationOption{
		openapi3.WithStringFormatValidator("uri", uriFormat),
	}
}
