package githubfake

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
)

func parseTime(s string) (time.Time, error) {
	return time.Parse(time.RFC3339, s)
}

// refName turns the {ref} of /git/ref/{ref} ("heads/main") into a full name.
func refName(ref string) string {
	return "refs/" + strings.TrimPrefix(ref, "refs/")
}

func (c *call) gitRef(g *gitRepo, name string, h plumbing.Hash) obj {
	typ := "commit"
	if t, err := g.objectType(h); err == nil {
		typ = t.String()
	}
	kind := typ + "s"
	return obj{
		"ref":     name,
		"node_id": nodeID("Ref", int64(len(name))),
		"url":     c.repoURL(c.repo) + "/git/" + name,
		"object": obj{
			"type": typ,
			"sha":  h.String(),
			"url":  c.repoURL(c.repo) + "/git/" + kind + "/" + h.String(),
		},
	}
}

func (f *Fake) getRef(c *call) {
	g := c.git()
	if g == nil {
		return
	}
	name := refName(c.params["ref"])
	h, err := g.ref(name)
	if err != nil {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	c.json(http.StatusOK, c.gitRef(g, name, h))
}

// validRefName is GitHub's rule: starts with refs/ and has two slashes.
func validRefName(name string) bool {
	return strings.HasPrefix(name, "refs/") && strings.Count(name, "/") >= 2 &&
		plumbing.ReferenceName(name).Validate() == nil
}

func (f *Fake) createRef(c *call) {
	var req struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	}
	if !c.decode(&req) {
		return
	}
	g := c.git()
	if g == nil {
		return
	}
	if !validRefName(req.Ref) {
		c.fail(http.StatusUnprocessableEntity, "Reference name is not valid. It must start with 'refs' and have at least two slashes.")
		return
	}
	h := plumbing.NewHash(req.SHA)
	if !plumbing.IsHash(req.SHA) {
		c.fail(http.StatusUnprocessableEntity, "Object does not exist")
		return
	}
	if _, err := g.objectType(h); err != nil {
		c.fail(http.StatusUnprocessableEntity, "Object does not exist")
		return
	}
	zero := plumbing.ZeroHash
	if err := g.setRef(req.Ref, h, &zero); err != nil {
		if errors.Is(err, errRefExists) {
			c.fail(http.StatusUnprocessableEntity, "Reference already exists")
			return
		}
		c.internal(err)
		return
	}
	out := c.gitRef(g, req.Ref, h)
	c.header.Set("Location", out["url"].(string))
	c.json(http.StatusCreated, out)
}

func (f *Fake) updateRef(c *call) {
	var req struct {
		SHA   string `json:"sha"`
		Force bool   `json:"force"`
	}
	if !c.decode(&req) {
		return
	}
	g := c.git()
	if g == nil {
		return
	}
	name := refName(c.params["ref"])
	old, err := g.ref(name)
	if err != nil {
		c.fail(http.StatusUnprocessableEntity, "Reference does not exist")
		return
	}
	h := plumbing.NewHash(req.SHA)
	if !plumbing.IsHash(req.SHA) {
		c.fail(http.StatusUnprocessableEntity, "Object does not exist")
		return
	}
	if _, err := g.objectType(h); err != nil {
		c.fail(http.StatusUnprocessableEntity, "Object does not exist")
		return
	}
	if !req.Force {
		ok, err := g.isAncestor(old, h)
		if err != nil && !errors.Is(err, errNotFound) {
			c.internal(err)
			return
		}
		if !ok {
			c.fail(http.StatusUnprocessableEntity, "Update is not a fast forward")
			return
		}
	}
	if err := g.setRef(name, h, &old); err != nil {
		if errors.Is(err, errRefChanged) {
			c.fail(http.StatusConflict, "Reference cannot be updated")
			return
		}
		c.internal(err)
		return
	}
	f.touchBranch(c.repo, name)
	c.json(http.StatusOK, c.gitRef(g, name, h))
}

func (f *Fake) deleteRef(c *call) {
	g := c.git()
	if g == nil {
		return
	}
	name := refName(c.params["ref"])
	if err := g.deleteRef(name, nil); err != nil {
		if errors.Is(err, errNotFound) {
			c.fail(http.StatusUnprocessableEntity, "Reference does not exist")
			return
		}
		c.internal(err)
		return
	}
	c.noContent(http.StatusNoContent)
}

// touchBranch notes a push for the repository's pushed_at.
func (f *Fake) touchBranch(r *repoState, name string) {
	if strings.HasPrefix(name, "refs/heads/") {
		r.pushed = f.now()
	}
}

func (f *Fake) createBlob(c *call) {
	var req struct {
		Content  string `json:"content"`
		Encoding string `json:"encoding"`
	}
	if !c.decode(&req) {
		return
	}
	data := []byte(req.Content)
	switch req.Encoding {
	case "", "utf-8", "utf8":
	case "base64":
		var err error
		if data, err = base64.StdEncoding.DecodeString(req.Content); err != nil {
			c.unprocessable("Blob", "content", "invalid", "content is not valid Base64")
			return
		}
	default:
		c.unprocessable("Blob", "encoding", "invalid", fmt.Sprintf("encoding %q is not supported", req.Encoding))
		return
	}
	g := c.git()
	if g == nil {
		return
	}
	h, err := g.writeBlob(data)
	if err != nil {
		c.internal(err)
		return
	}
	u := c.repoURL(c.repo) + "/git/blobs/" + h.String()
	c.header.Set("Location", u)
	c.json(http.StatusCreated, obj{"sha": h.String(), "url": u})
}

// cleanTreePath checks a path of the trees API: relative, no empty, "." or
// ".." components.
func cleanTreePath(p string) (string, bool) {
	if p == "" || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") {
		return "", false
	}
	for _, part := range strings.Split(p, "/") {
		if part == "" || part == "." || part == ".." || part == ".git" {
			return "", false
		}
	}
	return p, true
}

var treeModes = map[string]filemode.FileMode{
	"100644": filemode.Regular,
	"100755": filemode.Executable,
	"040000": filemode.Dir,
	"160000": filemode.Submodule,
	"120000": filemode.Symlink,
}

func modeString(m filemode.FileMode) string {
	if m == filemode.Dir {
		return "040000"
	}
	return fmt.Sprintf("%06o", uint32(m))
}

func (f *Fake) createTree(c *call) {
	var req struct {
		BaseTree string                       `json:"base_tree"`
		Tree     []map[string]json.RawMessage `json:"tree"`
	}
	if !c.decode(&req) {
		return
	}
	g := c.git()
	if g == nil {
		return
	}
	files := map[string]fileEntry{}
	if req.BaseTree != "" {
		h := plumbing.NewHash(req.BaseTree)
		if t, err := g.objectType(h); !plumbing.IsHash(req.BaseTree) || err != nil || t != plumbing.TreeObject {
			c.unprocessable("Tree", "base_tree", "invalid", "base_tree is not a valid tree oid")
			return
		}
		var err error
		if files, err = g.flatten(h); err != nil {
			c.internal(err)
			return
		}
	}
	for i, raw := range req.Tree {
		var e struct {
			Path    string  `json:"path"`
			Mode    string  `json:"mode"`
			Type    string  `json:"type"`
			SHA     *string `json:"sha"`
			Content *string `json:"content"`
		}
		b, _ := json.Marshal(raw)
		_ = json.Unmarshal(b, &e)
		bad := func(msg string) {
			c.unprocessable("Tree", fmt.Sprintf("tree[%d]", i), "invalid", msg)
		}
		p, ok := cleanTreePath(e.Path)
		if !ok {
			bad(fmt.Sprintf("tree.path %q contains a malformed path component", e.Path))
			return
		}
		mode, ok := treeModes[e.Mode]
		if !ok {
			bad(fmt.Sprintf("tree.mode %q is not valid", e.Mode))
			return
		}
		wantType := map[filemode.FileMode]string{filemode.Dir: "tree", filemode.Submodule: "commit"}[mode]
		if wantType == "" {
			wantType = "blob"
		}
		if e.Type != wantType {
			bad(fmt.Sprintf("tree.type %q does not match mode %s", e.Type, e.Mode))
			return
		}
		_, hasSHA := raw["sha"]
		switch {
		case e.Content != nil && e.SHA != nil:
			bad("Must supply either tree.sha or tree.content, not both")
			return
		case e.Content != nil:
			if mode == filemode.Dir || mode == filemode.Submodule {
				bad("tree.content is only allowed for blobs")
				return
			}
			h, err := g.writeBlob([]byte(*e.Content))
			if err != nil {
				c.internal(err)
				return
			}
			removeUnder(files, p)
			files[p] = fileEntry{mode: mode, hash: h}
		case hasSHA && e.SHA == nil:
			removeUnder(files, p)
			delete(files, p)
		case e.SHA != nil:
			h := plumbing.NewHash(*e.SHA)
			if !plumbing.IsHash(*e.SHA) {
				bad(fmt.Sprintf("tree.sha %s is not a valid %s", *e.SHA, e.Type))
				return
			}
			if mode == filemode.Submodule {
				removeUnder(files, p)
				files[p] = fileEntry{mode: mode, hash: h}
				continue
			}
			t, err := g.objectType(h)
			if err != nil || t.String() != e.Type {
				bad(fmt.Sprintf("tree.sha %s is not a valid %s", *e.SHA, e.Type))
				return
			}
			removeUnder(files, p)
			delete(files, p)
			if mode == filemode.Dir {
				sub, err := g.flatten(h)
				if err != nil {
					c.internal(err)
					return
				}
				for sp, se := range sub {
					files[p+"/"+sp] = se
				}
				continue
			}
			files[p] = fileEntry{mode: mode, hash: h}
		default:
			bad("Must supply either tree.sha or tree.content")
			return
		}
	}
	// A file where a folder was (or the reverse) replaces it.
	for p := range files {
		for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
			delete(files, dir)
		}
	}
	h, err := g.writeTree(files)
	if err != nil {
		c.internal(err)
		return
	}
	t, err := g.r.TreeObject(h)
	if err != nil {
		c.internal(err)
		return
	}
	entries := []obj{}
	for _, e := range t.Entries {
		typ := "blob"
		kind := "blobs"
		switch e.Mode {
		case filemode.Dir:
			typ, kind = "tree", "trees"
		case filemode.Submodule:
			typ = "commit"
		}
		eo := obj{"path": e.Name, "mode": modeString(e.Mode), "type": typ, "sha": e.Hash.String()}
		if typ != "commit" {
			eo["url"] = c.repoURL(c.repo) + "/git/" + kind + "/" + e.Hash.String()
		}
		if typ == "blob" {
			if size, err := t.Size(e.Name); err == nil {
				eo["size"] = size
			}
		}
		entries = append(entries, eo)
	}
	u := c.repoURL(c.repo) + "/git/trees/" + h.String()
	c.header.Set("Location", u)
	c.json(http.StatusCreated, obj{"sha": h.String(), "url": u, "tree": entries, "truncated": false})
}

// removeUnder removes every entry inside folder p.
func removeUnder(files map[string]fileEntry, p string) {
	for k := range files {
		if strings.HasPrefix(k, p+"/") {
			delete(files, k)
		}
	}
}

func (f *Fake) getCommit(c *call) {
	g := c.git()
	if g == nil {
		return
	}
	sha := c.params["commit_sha"]
	if !plumbing.IsHash(sha) {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	co, err := g.commit(plumbing.NewHash(sha))
	if err != nil {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	c.json(http.StatusOK, c.gitCommit(c.repo, co))
}

func (f *Fake) createCommit(c *call) {
	var req struct {
		Message   string        `json:"message"`
		Tree      string        `json:"tree"`
		Parents   []string      `json:"parents"`
		Author    *commitPerson `json:"author"`
		Committer *commitPerson `json:"committer"`
		Signature string        `json:"signature"`
	}
	if !c.decode(&req) {
		return
	}
	g := c.git()
	if g == nil {
		return
	}
	tree := plumbing.NewHash(req.Tree)
	if t, err := g.objectType(tree); !plumbing.IsHash(req.Tree) || err != nil || t != plumbing.TreeObject {
		c.unprocessable("Commit", "tree", "invalid", "Tree SHA does not exist")
		return
	}
	var parents []plumbing.Hash
	for _, p := range req.Parents {
		h := plumbing.NewHash(p)
		if t, err := g.objectType(h); !plumbing.IsHash(p) || err != nil || t != plumbing.CommitObject {
			c.unprocessable("Commit", "parents", "invalid", "Parent SHA does not exist or is not a commit object")
			return
		}
		parents = append(parents, h)
	}
	def := c.actor()
	author := c.person(req.Author, def)
	committer := c.person(req.Committer, author)
	h, err := g.writeCommit(tree, parents, author, committer, req.Message, req.Signature)
	if err != nil {
		c.internal(err)
		return
	}
	co, err := g.commit(h)
	if err != nil {
		c.internal(err)
		return
	}
	out := c.gitCommit(c.repo, co)
	c.header.Set("Location", out["url"].(string))
	c.json(http.StatusCreated, out)
}
