package gitrepo_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/kmend/kmend/internal/gitrepo"
)

// restGit serves the Git Data endpoints GitHubData calls, as GitHub's REST
// API shapes them, over bareData; it checks the request bodies go-github
// sends and records them. (internal/githubfake validates against GitHub's
// OpenAPI description; this only checks the adapter's translation.)
type restGit struct {
	data   *bareData
	mu     sync.Mutex
	bodies map[string][]map[string]any
}

func (g *restGit) record(op string, body map[string]any) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.bodies[op] = append(g.bodies[op], body)
}

func (g *restGit) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+token {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Bad credentials"})
		return
	}
	ctx := r.Context()
	var body map[string]any
	if r.Body != nil && r.Method != http.MethodGet {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Problems parsing JSON"})
			return
		}
	}
	// /repos/{owner}/{repo}/git/{kind}/{rest...}
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/repos/"), "/", 5)
	if len(parts) < 4 || parts[2] != "git" {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
		return
	}
	o, repo, kind := parts[0], parts[1], parts[3]
	rest := ""
	if len(parts) == 5 {
		rest = parts[4]
	}
	fail := func(err error) {
		status := http.StatusUnprocessableEntity
		if errors.Is(err, gitrepo.ErrRefNotFound) {
			status = http.StatusNotFound
		}
		writeJSON(w, status, map[string]any{"message": err.Error()})
	}
	str := func(k string) string { s, _ := body[k].(string); return s }
	switch {
	case r.Method == http.MethodGet && kind == "ref":
		sha, err := g.data.GetRef(ctx, o, repo, "refs/"+rest)
		if err != nil {
			fail(err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"ref": "refs/" + rest, "object": map[string]any{"sha": sha, "type": "commit"}})
	case r.Method == http.MethodGet && kind == "commits":
		c, err := g.data.GetCommit(ctx, o, repo, rest)
		if err != nil {
			fail(err)
			return
		}
		var parents []map[string]any
		for _, p := range c.Parents {
			parents = append(parents, map[string]any{"sha": p})
		}
		writeJSON(w, http.StatusOK, map[string]any{"sha": c.SHA, "message": c.Message, "tree": map[string]any{"sha": c.Tree}, "parents": parents})
	case r.Method == http.MethodPost && kind == "blobs":
		g.record("blob", body)
		if str("encoding") != "base64" {
			fail(errors.New("encoding must be base64 here"))
			return
		}
		content, err := base64.StdEncoding.DecodeString(str("content"))
		if err != nil {
			fail(err)
			return
		}
		sha, err := g.data.CreateBlob(ctx, o, repo, content)
		if err != nil {
			fail(err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"sha": sha})
	case r.Method == http.MethodPost && kind == "trees":
		g.record("tree", body)
		var entries []gitrepo.TreeEntry
		items, _ := body["tree"].([]any)
		for _, it := range items {
			m, _ := it.(map[string]any)
			sha, present := m["sha"]
			if !present {
				fail(errors.New("tree entry without sha"))
				return
			}
			s, _ := sha.(string)
			p, _ := m["path"].(string)
			mode, _ := m["mode"].(string)
			entries = append(entries, gitrepo.TreeEntry{Path: p, Mode: mode, SHA: s})
		}
		sha, err := g.data.CreateTree(ctx, o, repo, str("base_tree"), entries)
		if err != nil {
			fail(err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"sha": sha})
	case r.Method == http.MethodPost && kind == "commits":
		g.record("commit", body)
		var parents []string
		ps, _ := body["parents"].([]any)
		for _, p := range ps {
			s, _ := p.(string)
			parents = append(parents, s)
		}
		sha, err := g.data.CreateCommit(ctx, o, repo, gitrepo.NewCommit{Message: str("message"), Tree: str("tree"), Parents: parents})
		if err != nil {
			fail(err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"sha": sha})
	case r.Method == http.MethodPost && kind == "refs" && rest == "":
		g.record("createRef", body)
		if err := g.data.CreateRef(ctx, o, repo, str("ref"), str("sha")); err != nil {
			fail(err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"ref": str("ref"), "object": map[string]any{"sha": str("sha")}})
	case r.Method == http.MethodPatch && kind == "refs":
		g.record("updateRef", body)
		force, _ := body["force"].(bool)
		if err := g.data.UpdateRef(ctx, o, repo, "refs/"+rest, str("sha"), force); err != nil {
			fail(err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"ref": "refs/" + rest, "object": map[string]any{"sha": str("sha")}})
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func githubClient(t *testing.T, h http.Handler, tok string) *github.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := github.NewClient(nil).WithAuthToken(tok)
	u, err := url.Parse(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	c.BaseURL = u
	return c
}

func TestGitHubDataOverHTTP(t *testing.T) {
	files := manifests(20)
	s, base := newServer(t, files)
	rest := &restGit{data: newBareData(s.Server), bodies: map[string][]map[string]any{}}
	api := gitrepo.GitHubData{Client: githubClient(t, rest, token)}
	ctx := context.Background()
	gone := "apps/team02/app0002/deployment.yaml"
	opts := gitrepo.CommitViaAPIOptions{
		Owner: owner, Repo: name, Branch: branch, BaseSHA: base, Message: "kmend: fix",
		Files:   map[string][]byte{"apps/new/binary.bin": {0, 1, 2, 255, '\n'}, "README.md": []byte("# fixed\n")},
		Deletes: []string{gone},
	}
	res, err := gitrepo.CommitViaAPI(ctx, api, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Updated {
		t.Fatalf("result %+v", res)
	}
	if got, _ := s.Head(owner, name, branch); got != res.SHA {
		t.Fatalf("branch = %s, want %s", got, res.SHA)
	}
	for p, want := range opts.Files {
		if got, err := s.ReadFile(owner, name, branch, p); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s = %q, %v", p, got, err)
		}
	}
	if _, err := s.ReadFile(owner, name, branch, gone); err == nil {
		t.Fatalf("%s not deleted", gone)
	}

	// What went over the wire.
	tree := rest.bodies["tree"][0]
	if tree["base_tree"] == "" || tree["base_tree"] == base {
		t.Fatalf("base_tree = %v, want the base commit's tree", tree["base_tree"])
	}
	entries := tree["tree"].([]any)
	last := entries[len(entries)-1].(map[string]any)
	if last["path"] != gone || last["sha"] != nil || last["type"] != "blob" {
		t.Fatalf("delete entry = %v, want sha null", last)
	}
	commit := rest.bodies["commit"][0]
	if _, ok := commit["author"]; ok {
		t.Fatalf("commit sets an author, so GitHub would not sign it: %v", commit)
	}
	if _, ok := commit["committer"]; ok {
		t.Fatalf("commit sets a committer: %v", commit)
	}
	if ref := rest.bodies["createRef"][0]["ref"]; ref != "refs/heads/"+branch {
		t.Fatalf("created ref %v", ref)
	}

	// Rerun: found through GET ref and GET commit, nothing new.
	again, err := gitrepo.CommitViaAPI(ctx, api, opts)
	if err != nil || again.Updated || again.SHA != res.SHA {
		t.Fatalf("rerun = %+v, %v", again, err)
	}
	// A change: PATCH with force.
	opts.Files = map[string][]byte{"README.md": []byte("# again\n")}
	opts.Deletes = nil
	next, err := gitrepo.CommitViaAPI(ctx, api, opts)
	if err != nil || !next.Updated {
		t.Fatalf("update = %+v, %v", next, err)
	}
	if up := rest.bodies["updateRef"]; len(up) != 1 || up[0]["force"] != true || up[0]["sha"] != next.SHA {
		t.Fatalf("update ref bodies = %v", up)
	}
	if got, _ := s.Head(owner, name, branch); got != next.SHA {
		t.Fatalf("branch = %s, want %s", got, next.SHA)
	}

	// Errors map to the sentinels.
	if _, err := api.GetRef(ctx, owner, name, "refs/heads/missing"); !errors.Is(err, gitrepo.ErrRefNotFound) {
		t.Fatalf("missing ref: %v", err)
	}
	bad := gitrepo.GitHubData{Client: githubClient(t, rest, "wrong")}
	if _, err := bad.CreateBlob(ctx, owner, name, []byte("x")); !errors.Is(err, gitrepo.ErrAuth) {
		t.Fatalf("bad credentials: %v", err)
	}
}
