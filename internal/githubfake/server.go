package githubfake

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/kmend/kmend/internal/gittest"
)

// EnterprisePrefix is where a GitHub Enterprise Server serves its REST API.
const EnterprisePrefix = "/api/v3"

// Options configure a Fake. The zero value is ready to use.
type Options struct {
	// GitRoot holds the bare repositories, <GitRoot>/<owner>/<repo>.git.
	// Empty means a new t.TempDir(). Point internal/gittest at the same
	// folder to serve git over HTTP.
	GitRoot string
	// SpecPath is GitHub's OpenAPI description. Empty means SpecFile,
	// found by walking up to go.mod.
	SpecPath string
	// AppID and AppSlug name the GitHub App. Zero means 1001 and "kmend".
	AppID   int64
	AppSlug string
	// Lenient records requests and responses that fail validation (see
	// Errors) without failing the test at cleanup. For tests of the
	// validation itself.
	Lenient bool
	// TokenTTL is how long installation tokens live. Zero means one hour,
	// as on GitHub.
	TokenTTL time.Duration
	// RateLimit is the primary rate limit per hour. Zero means 5000.
	RateLimit int
	// RateLimitStatus answers calls once the primary limit is used up:
	// 403 (zero value) or 429, the two statuses GitHub uses.
	RateLimitStatus int
	// CloneBaseURL is the base of repositories' clone_url, for example the
	// URL of an internal/gittest server. Empty means URL().
	CloneBaseURL string
	// NoAutoInstall stops AddRepo from installing the App on the owner's
	// account (see Install).
	NoAutoInstall bool
	// Now is the fake's clock: timestamps, token expiry, JWT checks and
	// the rate-limit window. Nil means time.Now.
	Now func() time.Time
}

// Fake is a local GitHub: REST API, App authentication, repositories stored
// as bare git repositories. Its methods may be called from any goroutine.
type Fake struct {
	t      TB
	opts   Options
	spec   *spec
	doc    *openapi3.T
	router routers.Router
	srv    *httptest.Server
	root   string
	now    func() time.Time

	// mu guards the GitHub state, the faults and the rate limit. API calls
	// hold it while their handler runs, so they are serialized.
	mu     sync.Mutex
	st     *state
	faults []fault
	rate   rateState

	recMu sync.Mutex
	errs  []error
	calls map[string]int
}

// TB is what the fake needs of its user (gittest's, the same for both
// stand-ins): *testing.T and *testing.B satisfy it; a program (the demo)
// passes its own.
type TB = gittest.TB

// New starts a Fake and stops it when the test ends. At that point every
// request or response that failed validation against GitHub's OpenAPI
// description, every call to an endpoint the description does not have, and
// every internal error of the fake fails the test (unless Options.Lenient).
func New(t TB, opts Options) *Fake {
	t.Helper()
	specPath := opts.SpecPath
	if specPath == "" {
		p, err := findModuleFile(SpecFile)
		if err != nil {
			t.Fatalf("githubfake: %v", err)
		}
		specPath = p
	}
	sp, err := loadSpec(specPath)
	if err != nil {
		t.Fatalf("githubfake: %v", err)
	}
	if opts.AppID == 0 {
		opts.AppID = 1001
	}
	if opts.AppSlug == "" {
		opts.AppSlug = "kmend"
	}
	if opts.TokenTTL == 0 {
		opts.TokenTTL = time.Hour
	}
	if opts.RateLimit == 0 {
		opts.RateLimit = 5000
	}
	if opts.RateLimitStatus == 0 {
		opts.RateLimitStatus = http.StatusForbidden
	}
	root := opts.GitRoot
	if root == "" {
		root = t.TempDir()
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("githubfake: generate the App's key: %v", err)
	}
	f := &Fake{
		t:     t,
		opts:  opts,
		spec:  sp,
		root:  root,
		now:   now,
		calls: map[string]int{},
	}
	f.st = newState(f.now(), opts.AppID, opts.AppSlug, key)
	f.rate = rateState{limit: opts.RateLimit, remaining: opts.RateLimit, reset: f.now().Add(time.Hour)}
	f.srv = httptest.NewServer(f)
	doc := *sp.doc
	doc.Servers = openapi3.Servers{
		{URL: f.srv.URL},
		{URL: f.srv.URL + EnterprisePrefix},
	}
	f.doc = &doc
	f.router, err = gorillamux.NewRouter(f.doc)
	if err != nil {
		f.srv.Close()
		t.Fatalf("githubfake: router: %v", err)
	}
	t.Cleanup(func() {
		f.srv.Close()
		if f.opts.Lenient {
			return
		}
		for _, err := range f.Errors() {
			t.Errorf("githubfake: %v", err)
		}
	})
	return f
}

// URL is the API's base URL without a trailing slash, as on github.com
// (https://api.github.com). go-github wants URL()+"/" as its BaseURL;
// ghinstallation wants URL() as its BaseURL.
func (f *Fake) URL() string { return f.srv.URL }

// EnterpriseURL is the API's base URL as GitHub Enterprise Server serves it,
// URL()+"/api/v3" (pass it to go-github's WithEnterpriseURLs).
func (f *Fake) EnterpriseURL() string { return f.srv.URL + EnterprisePrefix }

// GitRoot is the folder of the bare repositories.
func (f *Fake) GitRoot() string { return f.root }

// SetCloneBaseURL sets the base of repositories' clone_url, for a git server
// started after the fake on GitRoot (see Options.CloneBaseURL).
func (f *Fake) SetCloneBaseURL(u string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opts.CloneBaseURL = u
}

// Errors returns what failed so far: invalid requests and responses, calls
// to unknown endpoints, internal errors of the fake.
func (f *Fake) Errors() []error {
	f.recMu.Lock()
	defer f.recMu.Unlock()
	return append([]error(nil), f.errs...)
}

// ResetErrors forgets the errors recorded so far.
func (f *Fake) ResetErrors() {
	f.recMu.Lock()
	defer f.recMu.Unlock()
	f.errs = nil
}

// Calls counts the API calls received so far by "METHOD /path/template",
// for example "POST /repos/{owner}/{repo}/pulls". Calls to unknown
// endpoints count under their literal path.
func (f *Fake) Calls() map[string]int {
	f.recMu.Lock()
	defer f.recMu.Unlock()
	m := make(map[string]int, len(f.calls))
	for k, v := range f.calls {
		m[k] = v
	}
	return m
}

// TotalCalls is the number of API calls received so far.
func (f *Fake) TotalCalls() int {
	f.recMu.Lock()
	defer f.recMu.Unlock()
	n := 0
	for _, v := range f.calls {
		n += v
	}
	return n
}

// ResetCalls sets the call counts back to zero.
func (f *Fake) ResetCalls() {
	f.recMu.Lock()
	defer f.recMu.Unlock()
	f.calls = map[string]int{}
}

func (f *Fake) record(err error) {
	f.recMu.Lock()
	defer f.recMu.Unlock()
	f.errs = append(f.errs, err)
}

func (f *Fake) count(key string) {
	f.recMu.Lock()
	defer f.recMu.Unlock()
	f.calls[key]++
}

// call is one API request being answered.
type call struct {
	f      *Fake
	r      *http.Request
	key    string // "METHOD /template"
	body   []byte
	params map[string]string // unescaped path parameters
	api    string            // API base URL of this request (with /api/v3 when used)
	web    string            // web base URL
	who    *identity
	repo   *repoState // the {owner}/{repo} of the route, once authorized

	status int
	header http.Header
	out    []byte
}

// ServeHTTP answers one request: route, validate, authenticate, apply
// faults and rate limits, run the handler, validate the response.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	escaped := r.URL.EscapedPath()
	prefix := ""
	if escaped == EnterprisePrefix || strings.HasPrefix(escaped, EnterprisePrefix+"/") {
		prefix = EnterprisePrefix
		escaped = strings.TrimPrefix(escaped, EnterprisePrefix)
	}
	if strings.HasPrefix(escaped, "/raw/") {
		f.serveRaw(w, r, strings.TrimPrefix(escaped, "/raw/"))
		return
	}
	if prefix == "" && f.serveWeb(w, r, escaped) { // web pages, not the API (web.go)
		return
	}
	host := "http://" + r.Host
	c := &call{f: f, r: r, body: body, api: host + prefix, web: host, header: http.Header{}}

	route, rawParams, err := f.findRoute(r, escaped)
	if err != nil {
		f.count(r.Method + " " + escaped)
		f.record(fmt.Errorf("%s %s: not an endpoint of GitHub's OpenAPI description (%v)", r.Method, r.URL.Path, err))
		c.fail(http.StatusNotFound, "Not Found")
		f.finish(w, c, nil, false)
		return
	}
	c.key = r.Method + " " + route.Path
	f.count(c.key)
	c.params = make(map[string]string, len(rawParams))
	for k, v := range rawParams {
		if u, err := url.PathUnescape(v); err == nil {
			v = u
		}
		c.params[k] = v
	}

	reqInput := &openapi3filter.RequestValidationInput{
		Request:    cloneRequest(r, validationBody(c.key, body)),
		PathParams: validationParams(route.Path, rawParams),
		Route:      route,
		Options:    validationOptions(),
	}
	reqErr := openapi3filter.ValidateRequest(context.Background(), reqInput)
	if reqErr != nil {
		f.record(fmt.Errorf("%s %s: request does not match GitHub's OpenAPI description: %v", r.Method, r.URL.RequestURI(), reqErr))
	}

	counted := f.handle(c, reqErr)

	// Validate what the handler produced (before turning it into a 304).
	resInput := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: reqInput,
		Status:                 c.status,
		Header:                 c.header,
		Options:                validationOptions(),
	}
	resInput.SetBodyBytes(c.out)
	if err := f.validateResponse(resInput); err != nil {
		f.record(fmt.Errorf("%s %s: the fake's %d response does not match GitHub's OpenAPI description: %v", r.Method, r.URL.RequestURI(), c.status, err))
	}
	f.finish(w, c, route, counted)
}

// handle runs the request through faults, authentication, the rate limit and
// the handler. It reports whether the call counts against the rate limit.
func (f *Fake) handle(c *call, reqErr error) (counted bool) {
	def, ok := routeTable[c.key]
	if !ok {
		f.record(fmt.Errorf("%s: no handler in the fake for this operation of GitHub's OpenAPI description", c.key))
		c.fail(http.StatusNotFound, "Not Found")
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.faults) > 0 {
		ft := f.faults[0]
		f.faults = f.faults[1:]
		ft.answer(c)
		return false
	}
	if !f.authenticate(c, def) {
		return false
	}
	counts := c.key != "GET /rate_limit"
	if counts && f.rateExhausted() {
		c.header.Set("Retry-After", strconv.Itoa(int(f.rate.reset.Sub(f.now()).Seconds())+1))
		c.failDoc(f.opts.RateLimitStatus, fmt.Sprintf("API rate limit exceeded for %s.", c.who.rateSubject()),
			"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-rate-limits")
		return false
	}
	if !f.authorize(c, def) {
		return counts
	}
	if reqErr != nil {
		c.invalid(reqErr)
		return counts
	}
	func() {
		defer func() {
			if p := recover(); p != nil {
				f.record(fmt.Errorf("%s: handler panicked: %v", c.key, p))
				c.fail(http.StatusInternalServerError, "Server Error")
			}
		}()
		def.handler(f, c)
	}()
	if c.status == 0 {
		f.record(fmt.Errorf("%s: handler wrote no response", c.key))
		c.fail(http.StatusInternalServerError, "Server Error")
	}
	return counts
}

// finish applies conditional requests and the rate limit headers, then
// writes the response.
func (f *Fake) finish(w http.ResponseWriter, c *call, route *routers.Route, counted bool) {
	status, out := c.status, c.out
	if c.r.Method == http.MethodGet && status == http.StatusOK && route != nil {
		etag := `W/"` + hashHex(out) + `"`
		c.header.Set("ETag", etag)
		if etagMatch(c.r.Header.Get("If-None-Match"), etag) {
			status, out = http.StatusNotModified, nil
			counted = false // 304s do not count against the rate limit
			c.header.Del("Content-Type")
		}
	}
	f.mu.Lock()
	if counted {
		f.useRate()
	}
	f.rateHeaders(c.header)
	f.mu.Unlock()
	c.header.Set("X-GitHub-Request-Id", strings.ToUpper(hashHex([]byte(fmt.Sprint(time.Now().UnixNano())))[:16]))
	c.header.Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	for k, v := range c.header {
		w.Header()[k] = v
	}
	if out != nil {
		w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	}
	w.WriteHeader(status)
	if out != nil {
		_, _ = w.Write(out)
	}
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:20])
}

func etagMatch(ifNoneMatch, etag string) bool {
	if ifNoneMatch == "" {
		return false
	}
	weak := func(s string) string { return strings.TrimPrefix(strings.TrimSpace(s), "W/") }
	for _, cand := range strings.Split(ifNoneMatch, ",") {
		if strings.TrimSpace(cand) == "*" || weak(cand) == weak(etag) {
			return true
		}
	}
	return false
}

// findRoute matches a request to an operation of the description: first
// with kin-openapi's gorillamux router, then, for the templates whose last
// parameter may hold slashes, with the fake's own matcher.
func (f *Fake) findRoute(r *http.Request, escaped string) (*routers.Route, map[string]string, error) {
	route, params, err := f.router.FindRoute(r)
	if err == nil {
		return route, params, nil
	}
	if !errors.Is(err, routers.ErrPathNotFound) {
		return nil, nil, err
	}
	for _, sr := range f.spec.slashRoutes {
		params, ok := sr.match(escaped)
		if !ok {
			continue
		}
		item := f.doc.Paths.Value(sr.tmpl)
		op := item.GetOperation(r.Method)
		if op == nil {
			return nil, nil, routers.ErrMethodNotAllowed
		}
		server := f.doc.Servers[0]
		if strings.HasPrefix(r.URL.EscapedPath(), EnterprisePrefix+"/") {
			server = f.doc.Servers[1]
		}
		return &routers.Route{
			Spec:      f.doc,
			Server:    server,
			Path:      sr.tmpl,
			PathItem:  item,
			Method:    r.Method,
			Operation: op,
		}, params, nil
	}
	return nil, nil, err
}

func cloneRequest(r *http.Request, body []byte) *http.Request {
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return r2
}

func validationOptions() *openapi3filter.Options {
	return &openapi3filter.Options{
		MultiError:              true,
		SkipSettingDefaults:     true,
		SchemaValidationOptions: append(schemaOptions(), openapi3.DisableSchemaErrorDetails()),
	}
}

// validateResponse validates with kin-openapi, then checks what it lets
// through: a success status the operation does not document, and error
// bodies of undocumented statuses (which must still be GitHub's basic-error).
func (f *Fake) validateResponse(in *openapi3filter.ResponseValidationInput) error {
	route := in.RequestValidationInput.Route
	body, _ := io.ReadAll(in.Body)
	in.SetBodyBytes(body)
	status := in.Status
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		if status >= 400 && f.matchesOneErrorBranch(route, status, body) {
			return nil
		}
		return err
	}
	if status == http.StatusNotModified {
		return nil
	}
	if route.Operation.Responses.Status(status) != nil {
		return nil
	}
	if status < 400 {
		return fmt.Errorf("status %d is not documented for %s %s", status, route.Method, route.Path)
	}
	if len(body) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("error body is not JSON: %w", err)
	}
	opts := append(schemaOptions(), openapi3.DisableSchemaErrorDetails(), openapi3.VisitAsResponse())
	if err := f.spec.basicError.Value.VisitJSON(v, opts...); err != nil {
		return fmt.Errorf("undocumented status %d: body is not a basic-error: %w", status, err)
	}
	return nil
}

// validationParams are the path parameters to validate. GitHub serves the
// root folder's contents at /contents/ (empty path), which the description
// cannot express: an empty path is validated as ".".
func validationParams(tmpl string, params map[string]string) map[string]string {
	if tmpl != "/repos/{owner}/{repo}/contents/{path}" || params["path"] != "" {
		return params
	}
	out := make(map[string]string, len(params))
	for k, v := range params {
		out[k] = v
	}
	out["path"] = "."
	return out
}

// validationBody is the body to validate. The labels endpoints accept a
// bare JSON array of names too (their description says so in prose, and
// go-github sends that), while their schema only has {"labels": [...]}: such
// an array is validated as {"labels": array}.
func validationBody(key string, body []byte) []byte {
	switch key {
	case "POST /repos/{owner}/{repo}/issues/{issue_number}/labels",
		"PUT /repos/{owner}/{repo}/issues/{issue_number}/labels":
		trimmed := bytes.TrimSpace(body)
		if len(trimmed) > 0 && trimmed[0] == '[' {
			return append(append([]byte(`{"labels":`), trimmed...), '}')
		}
	}
	return body
}

// matchesOneErrorBranch accepts an error body that validates against one
// branch of a oneOf. GitHub's description makes its error schemas overlap
// (basic-error and repository-rule-violation-error accept the same objects),
// so no error body can match exactly one branch; matching one is enough.
func (f *Fake) matchesOneErrorBranch(route *routers.Route, status int, body []byte) bool {
	ref := route.Operation.Responses.Status(status)
	if ref == nil || ref.Value == nil {
		return false
	}
	mt := ref.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || len(mt.Schema.Value.OneOf) == 0 {
		return false
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return false
	}
	opts := append(schemaOptions(), openapi3.DisableSchemaErrorDetails(), openapi3.VisitAsResponse())
	for _, branch := range mt.Schema.Value.OneOf {
		if branch.Value.VisitJSON(v, opts...) == nil {
			return true
		}
	}
	return false
}

// json answers with a JSON body.
func (c *call) json(status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		c.f.record(fmt.Errorf("%s: encode response: %w", c.key, err))
		c.fail(http.StatusInternalServerError, "Server Error")
		return
	}
	c.status = status
	c.header.Set("Content-Type", "application/json; charset=utf-8")
	c.out = buf.Bytes()
}

// noContent answers with a status and no body.
func (c *call) noContent(status int) {
	c.status = status
	c.out = nil
	c.header.Del("Content-Type")
}

const docsURL = "https://docs.github.com/rest"

// fail answers with GitHub's basic error body.
func (c *call) fail(status int, message string) {
	c.failDoc(status, message, docsURL)
}

func (c *call) failDoc(status int, message, doc string) {
	c.json(status, map[string]any{
		"message":           message,
		"documentation_url": doc,
		"status":            strconv.Itoa(status),
	})
}

// unprocessable answers 422 Validation Failed with one error, as GitHub does.
func (c *call) unprocessable(resource, field, code, message string) {
	e := map[string]any{"resource": resource, "code": code}
	if field != "" {
		e["field"] = field
	}
	if message != "" {
		e["message"] = message
	}
	c.json(http.StatusUnprocessableEntity, map[string]any{
		"message":           "Validation Failed",
		"errors":            []any{e},
		"documentation_url": docsURL,
		"status":            "422",
	})
}

// invalid answers 422 for a request that does not match the description.
func (c *call) invalid(err error) {
	c.json(http.StatusUnprocessableEntity, map[string]any{
		"message":           "Invalid request.\n\n" + err.Error(),
		"documentation_url": docsURL,
		"status":            "422",
	})
}

// internal records an error of the fake itself and answers 500.
func (c *call) internal(err error) {
	c.f.record(fmt.Errorf("%s: %w", c.key, err))
	c.fail(http.StatusInternalServerError, "Server Error")
}

// decode reads the JSON request body into v.
func (c *call) decode(v any) bool {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return true
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		c.fail(http.StatusBadRequest, "Problems parsing JSON")
		return false
	}
	return true
}

func (c *call) query(name string) string { return c.r.URL.Query().Get(name) }

// intParam reads an integer path parameter (already validated).
func (c *call) intParam(name string) int64 {
	n, _ := strconv.ParseInt(c.params[name], 10, 64)
	return n
}

// page cuts a list to the requested page and sets the Link header.
func page[T any](c *call, items []T) []T {
	per := 30
	if v, err := strconv.Atoi(c.query("per_page")); err == nil && v > 0 {
		per = min(v, 100)
	}
	pg := 1
	if v, err := strconv.Atoi(c.query("page")); err == nil && v > 0 {
		pg = v
	}
	last := max(1, (len(items)+per-1)/per)
	link := func(n int, rel string) string {
		u := *c.r.URL
		q := u.Query()
		q.Set("page", strconv.Itoa(n))
		q.Set("per_page", strconv.Itoa(per))
		u.RawQuery = q.Encode()
		return fmt.Sprintf("<%s%s>; rel=%q", c.api, strings.TrimPrefix(u.RequestURI(), EnterprisePrefix), rel)
	}
	var links []string
	if pg < last {
		links = append(links, link(pg+1, "next"), link(last, "last"))
	}
	if pg > 1 {
		links = append(links, link(1, "first"), link(min(pg-1, last), "prev"))
	}
	if len(links) > 0 {
		c.header.Set("Link", strings.Join(links, ", "))
	}
	start := (pg - 1) * per
	if start >= len(items) {
		return []T{}
	}
	return items[start:min(start+per, len(items))]
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
