package githubfake

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/google/go-github/v60/github"
)

// TestRouteTableMatchesSpec: the fake has a handler for every operation of
// the description and none for anything else.
func TestRouteTableMatchesSpec(t *testing.T) {
	path, err := findModuleFile(SpecFile)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := loadSpec(path)
	if err != nil {
		t.Fatal(err)
	}
	inSpec := map[string]bool{}
	for _, op := range sp.ops {
		inSpec[op] = true
		if _, ok := routeTable[op]; !ok {
			t.Errorf("no handler for %s", op)
		}
	}
	var extra []string
	for op := range routeTable {
		if !inSpec[op] {
			extra = append(extra, op)
		}
	}
	sort.Strings(extra)
	for _, op := range extra {
		t.Errorf("handler for %s, which the description does not have", op)
	}
	if len(sp.ops) < 40 {
		t.Errorf("only %d operations loaded", len(sp.ops))
	}
	again, _ := loadSpec(path)
	if again != sp {
		t.Errorf("the description was loaded twice")
	}
}

// rawCall sends a request with a hand-made JSON body through go-github.
func rawCall(t *testing.T, gh *github.Client, method, path string, body any) (*github.Response, error) {
	t.Helper()
	req, err := gh.NewRequest(method, path, body)
	if err != nil {
		t.Fatal(err)
	}
	return gh.Do(context.Background(), req, nil)
}

// TestInvalidRequests: requests the real API would reject are answered 422
// and recorded as errors.
func TestInvalidRequests(t *testing.T) {
	f := New(t, Options{Lenient: true})
	f.AddRepo("acme", "shop", sampleFiles)
	gh := tokenClient(t, f, f.InstallationToken(f.Install("acme")))
	f.Push("acme", "shop", "feature", map[string][]byte{"x.txt": []byte("x\n")}, "x")

	cases := []struct {
		name, method, path string
		body               any
		want               string // in the recorded error
	}{
		{"pull without head", "POST", "repos/acme/shop/pulls", map[string]any{"title": "t", "base": "main"}, `property "head" is missing`},
		{"bad state enum", "GET", "repos/acme/shop/pulls?state=merged", nil, `parameter "state"`},
		{"bad reaction", "POST", "repos/acme/shop/issues/comments/1/reactions", map[string]any{"content": "party"}, `"/content"`},
		{"check output without summary", "POST", "repos/acme/shop/check-runs", map[string]any{
			"name": "kmend", "head_sha": strings.Repeat("a", 40), "output": map[string]any{"title": "t"},
		}, `"summary"`},
		{"comment body not a string", "POST", "repos/acme/shop/issues/1/comments", map[string]any{"body": 42}, `"/body"`},
		{"pull number not an integer", "GET", "repos/acme/shop/pulls/one", nil, `parameter "pull_number"`},
		{"tree mode", "POST", "repos/acme/shop/git/trees", map[string]any{
			"tree": []any{map[string]any{"path": "a", "mode": "644", "type": "blob", "content": "x"}},
		}, `"/tree/0/mode"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.ResetErrors()
			resp, err := rawCall(t, gh, tc.method, tc.path, tc.body)
			if resp == nil || resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("%s %s: %v, want 422", tc.method, tc.path, err)
			}
			errs := f.Errors()
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.want) {
				t.Errorf("recorded errors %v, want one mentioning %s", errs, tc.want)
			}
		})
	}

	// A valid request records nothing.
	f.ResetErrors()
	if _, err := rawCall(t, gh, "POST", "repos/acme/shop/pulls", map[string]any{"title": "t", "head": "feature", "base": "main"}); err != nil {
		t.Fatalf("valid pull request: %v", err)
	}
	if errs := f.Errors(); len(errs) != 0 {
		t.Errorf("errors after a valid request: %v", errs)
	}

	// An endpoint the description does not have is recorded too.
	resp, _ := rawCall(t, gh, "GET", "repos/acme/shop/commits", nil)
	if resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown endpoint: %v", resp)
	}
	if errs := f.Errors(); len(errs) != 1 || !strings.Contains(errs[0].Error(), "not an endpoint") {
		t.Errorf("errors: %v", errs)
	}
	if f.Calls()["GET /repos/acme/shop/commits"] != 1 {
		t.Errorf("unknown endpoint not counted: %v", f.Calls())
	}
}

// TestNullTokenBodyCaught: ghinstallation without InstallationTokenOptions
// sends the body null, which the description does not allow.
func TestNullTokenBodyCaught(t *testing.T) {
	f := New(t, Options{Lenient: true})
	f.AddRepo("acme", "shop", sampleFiles)
	app := f.App()
	tr, err := ghinstallation.New(http.DefaultTransport, app.ID, f.Install("acme"), app.PrivateKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	tr.BaseURL = f.URL()
	if _, err := tr.Token(context.Background()); err == nil {
		t.Errorf("token request with a null body succeeded")
	}
	errs := f.Errors()
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "access_tokens") {
		t.Errorf("errors: %v", errs)
	}
}

// TestResponseValidator: the fake's own responses are checked; a wrong body
// or an undocumented success status is an error.
func TestResponseValidator(t *testing.T) {
	f := New(t, Options{})
	check := func(method, path string, status int, body string) error {
		t.Helper()
		req := httptest.NewRequest(method, f.URL()+path, nil)
		route, params, err := f.findRoute(req, req.URL.EscapedPath())
		if err != nil {
			t.Fatalf("route %s %s: %v", method, path, err)
		}
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
			Status:                 status,
			Header:                 http.Header{"Content-Type": {"application/json; charset=utf-8"}},
			Options:                validationOptions(),
		}
		in.SetBodyBytes([]byte(body))
		return f.validateResponse(in)
	}
	// A git ref without its object.
	if err := check("GET", "/repos/o/r/git/ref/heads/main", 200, `{"ref":"refs/heads/main","node_id":"x","url":"http://h/x"}`); err == nil ||
		!strings.Contains(err.Error(), "object") {
		t.Errorf("ref without object: %v", err)
	}
	// A relative URL where the schema wants format: uri.
	if err := check("GET", "/repos/o/r/git/ref/heads/main", 200,
		`{"ref":"refs/heads/main","node_id":"x","url":"/x","object":{"type":"commit","sha":"a","url":"http://h/y"}}`); err == nil {
		t.Errorf("relative url accepted")
	}
	// The same, right.
	if err := check("GET", "/repos/o/r/git/ref/heads/main", 200,
		`{"ref":"refs/heads/main","node_id":"x","url":"http://h/x","object":{"type":"commit","sha":"`+strings.Repeat("a", 40)+`","url":"http://h/y"}}`); err != nil {
		t.Errorf("valid ref: %v", err)
	}
	// A bad enum and a bad date-time.
	if err := check("POST", "/repos/o/r/issues/comments/1/reactions", 201,
		`{"id":1,"node_id":"x","user":null,"content":"party","created_at":"yesterday"}`); err == nil {
		t.Errorf("bad reaction accepted")
	}
	// 200 where only 201 is documented.
	if err := check("POST", "/repos/o/r/git/blobs", 200, `{"url":"http://h/b","sha":"a"}`); err == nil ||
		!strings.Contains(err.Error(), "not documented") {
		t.Errorf("undocumented 200: %v", err)
	}
	// An undocumented error status must still carry a basic-error.
	if err := check("POST", "/repos/o/r/check-runs", 404, `{"message":"Not Found","documentation_url":"x"}`); err != nil {
		t.Errorf("undocumented 404 with a basic error: %v", err)
	}
	if err := check("POST", "/repos/o/r/check-runs", 404, `{"message":42}`); err == nil {
		t.Errorf("undocumented 404 with a bad body accepted")
	}
}

// recordingTB catches what New reports at cleanup.
type recordingTB struct {
	testing.TB
	errs     []string
	cleanups []func()
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.errs = append(r.errs, format)
}

func (r *recordingTB) Cleanup(fn func()) { r.cleanups = append(r.cleanups, fn) }

// TestFailsTheTest: without Lenient, an invalid request fails the test.
func TestFailsTheTest(t *testing.T) {
	rec := &recordingTB{TB: t}
	f := New(rec, Options{})
	resp, err := http.Post(f.URL()+"/nope", "application/json", bytes.NewReader([]byte(`{}`)))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	for i := len(rec.cleanups) - 1; i >= 0; i-- {
		rec.cleanups[i]()
	}
	if len(rec.errs) != 1 {
		t.Errorf("test failures at cleanup: %d, want 1 (%v)", len(rec.errs), f.Errors())
	}
}

// TestBadResponseRecorded: a handler's invalid response is recorded, end to
// end through the server.
func TestBadResponseRecorded(t *testing.T) {
	f := New(t, Options{Lenient: true})
	const key = "GET /rate_limit"
	old := routeTable[key]
	routeTable[key] = routeDef{auth: authAny, handler: func(f *Fake, c *call) { c.json(http.StatusOK, obj{"rate": "none"}) }}
	defer func() { routeTable[key] = old }()
	resp, err := http.Get(f.URL() + "/rate_limit")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	errs := f.Errors()
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "the fake's 200 response does not match") {
		t.Errorf("errors: %v", errs)
	}
}
