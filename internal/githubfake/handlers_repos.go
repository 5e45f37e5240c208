package githubfake

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// DefaultBranch is the branch AddRepo commits to.
const DefaultBranch = "main"

// Repo describes a repository of the fake.
type Repo struct {
	ID            int64
	Owner, Name   string
	FullName      string
	DefaultBranch string
	Private       bool
	// Dir is the bare git repository, <GitRoot>/<owner>/<name>.git.
	Dir string
}

// AddRepo creates a repository whose default branch, main, has one commit
// holding files (paths with slashes make folders). Unless
// Options.NoAutoInstall, the App is installed on the owner's account (all
// its repositories) if it is not yet.
func (f *Fake) AddRepo(owner, name string, files map[string][]byte) Repo {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.st.repo(owner, name) != nil {
		f.t.Fatalf("githubfake: AddRepo: %s/%s exists", owner, name)
	}
	dir := f.repoDir(owner, name)
	g, err := initBare(dir, DefaultBranch)
	if err != nil {
		f.t.Fatalf("githubfake: AddRepo: %v", err)
	}
	tree, err := g.writeFiles(nil, files)
	if err != nil {
		f.t.Fatalf("githubfake: AddRepo %s/%s: %v", owner, name, err)
	}
	now := f.now()
	who := signature{name: owner, email: owner + "@users.noreply.github.com", when: now}
	h, err := g.writeCommit(tree, nil, who, who, "Initial commit\n", "")
	if err == nil {
		zero := plumbing.ZeroHash
		err = g.setRef("refs/heads/"+DefaultBranch, h, &zero)
	}
	if err != nil {
		f.t.Fatalf("githubfake: AddRepo %s/%s: %v", owner, name, err)
	}
	r := &repoState{
		id:            f.st.id(),
		owner:         owner,
		name:          name,
		defaultBranch: DefaultBranch,
		created:       now,
		updated:       now,
		pushed:        now,
		issues:        map[int]*issueState{},
		labels:        map[string]*labelState{},
		perms:         map[string]string{},
	}
	f.st.repos[r.key()] = r
	f.st.userID(owner)
	if !f.opts.NoAutoInstall && f.st.installationFor(owner) == nil {
		f.install(owner)
	}
	return f.repoInfo(r)
}

func (f *Fake) repoInfo(r *repoState) Repo {
	return Repo{
		ID:            r.id,
		Owner:         r.owner,
		Name:          r.name,
		FullName:      r.fullName(),
		DefaultBranch: r.defaultBranch,
		Private:       r.private,
		Dir:           f.repoDir(r.owner, r.name),
	}
}

// Repo returns a repository's description, or false.
func (f *Fake) Repo(owner, name string) (Repo, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.st.repo(owner, name)
	if r == nil {
		return Repo{}, false
	}
	return f.repoInfo(r), true
}

// SetPrivate makes a repository private or public.
func (f *Fake) SetPrivate(owner, name string, private bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r := f.st.repo(owner, name); r != nil {
		r.private = private
	} else {
		f.t.Errorf("githubfake: SetPrivate: no repository %s/%s", owner, name)
	}
}

// SetCollaborator gives login a role on a repository: admin, maintain,
// write, triage or read; "" removes it.
func (f *Fake) SetCollaborator(owner, name, login, role string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.st.repo(owner, name)
	if r == nil {
		f.t.Errorf("githubfake: SetCollaborator: no repository %s/%s", owner, name)
		return
	}
	if role == "" {
		delete(r.perms, strings.ToLower(login))
		return
	}
	r.perms[strings.ToLower(login)] = role
}

// File reads a file from git at ref (a branch, tag or commit SHA).
func (f *Fake) File(owner, repo, ref, file string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, err := openGit(f.repoDir(owner, repo))
	if err != nil {
		return nil, err
	}
	h, err := g.resolve(ref)
	if err != nil {
		return nil, fmt.Errorf("%s/%s: ref %s: %w", owner, repo, ref, err)
	}
	data, e, err := g.readFile(h, strings.Trim(file, "/"))
	if err != nil {
		return nil, fmt.Errorf("%s/%s@%s: %s: %w", owner, repo, ref, file, err)
	}
	if e.mode == filemode.Dir {
		return nil, fmt.Errorf("%s/%s@%s: %s is a folder", owner, repo, ref, file)
	}
	return data, nil
}

// Branch returns the SHA a branch points at, read from git.
func (f *Fake) Branch(owner, repo, branch string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, err := openGit(f.repoDir(owner, repo))
	if err != nil {
		return "", err
	}
	h, err := g.branch(branch)
	if err != nil {
		return "", fmt.Errorf("%s/%s: branch %s: %w", owner, repo, branch, err)
	}
	return h.String(), nil
}

// Push commits files on a branch as a person would push them (nil content
// deletes a file), creating the branch from the default branch when it does
// not exist. It returns the new commit's SHA.
func (f *Fake) Push(owner, repo, branch string, files map[string][]byte, message string) string {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.st.repo(owner, repo)
	if r == nil {
		f.t.Fatalf("githubfake: Push: no repository %s/%s", owner, repo)
	}
	g, err := openGit(f.repoDir(owner, repo))
	if err != nil {
		f.t.Fatalf("githubfake: Push: %v", err)
	}
	old, err := g.branch(branch)
	parent := old
	if errors.Is(err, errNotFound) {
		parent, err = g.branch(r.defaultBranch)
		old = plumbing.ZeroHash
	}
	if err != nil {
		f.t.Fatalf("githubfake: Push %s/%s %s: %v", owner, repo, branch, err)
	}
	h, err := f.commitFiles(g, parent, files, message, signature{name: owner, email: owner + "@users.noreply.github.com", when: f.now()})
	if err == nil {
		err = g.setRef("refs/heads/"+branch, h, &old)
	}
	if err != nil {
		f.t.Fatalf("githubfake: Push %s/%s %s: %v", owner, repo, branch, err)
	}
	r.pushed = f.now()
	return h.String()
}

// commitFiles writes a commit on parent with files changed (nil deletes).
func (f *Fake) commitFiles(g *gitRepo, parent plumbing.Hash, files map[string][]byte, message string, who signature) (plumbing.Hash, error) {
	pc, err := g.commit(parent)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	base, err := g.flatten(pc.TreeHash)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	tree, err := g.writeFiles(base, files)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return g.writeCommit(tree, []plumbing.Hash{parent}, who, who, message, "")
}

// git opens the call's repository, answering 500 when it cannot.
func (c *call) git() *gitRepo {
	g, err := openGit(c.f.repoDir(c.repo.owner, c.repo.name))
	if err != nil {
		c.internal(err)
		return nil
	}
	return g
}

// actor is the signature of the caller for commits made through the API.
func (c *call) actor() signature {
	login := c.f.st.botLogin()
	if c.who != nil && c.who.login != "" {
		login = c.who.login
	}
	id := c.f.st.userID(login)
	return signature{name: login, email: fmt.Sprintf("%d+%s@users.noreply.github.com", id, login), when: c.f.now()}
}

func (f *Fake) getRepo(c *call) {
	c.json(http.StatusOK, c.repository(c.repo, true))
}

func (f *Fake) patchRepo(c *call) {
	var req struct {
		Description   *string `json:"description"`
		Homepage      *string `json:"homepage"`
		Private       *bool   `json:"private"`
		Visibility    *string `json:"visibility"`
		DefaultBranch *string `json:"default_branch"`
		Archived      *bool   `json:"archived"`
		Name          *string `json:"name"`
	}
	if !c.decode(&req) {
		return
	}
	r := c.repo
	if req.Name != nil && *req.Name != r.name {
		c.unprocessable("Repository", "name", "invalid", "renaming repositories is not supported by the fake")
		return
	}
	if req.DefaultBranch != nil {
		g := c.git()
		if g == nil {
			return
		}
		if _, err := g.branch(*req.DefaultBranch); err != nil {
			c.unprocessable("Repository", "default_branch", "invalid", "Cannot update default branch for an empty repository. Please init the repository and push first.")
			return
		}
		if err := g.setHead(*req.DefaultBranch); err != nil {
			c.internal(err)
			return
		}
		r.defaultBranch = *req.DefaultBranch
	}
	if req.Description != nil {
		r.description = *req.Description
	}
	if req.Homepage != nil {
		r.homepage = *req.Homepage
	}
	if req.Private != nil {
		r.private = *req.Private
	}
	if req.Visibility != nil {
		r.private = *req.Visibility != "public"
	}
	if req.Archived != nil {
		r.archived = *req.Archived
	}
	r.updated = f.now()
	c.json(http.StatusOK, c.repository(r, true))
}

func (f *Fake) deleteRepo(c *call) {
	if err := os.RemoveAll(f.repoDir(c.repo.owner, c.repo.name)); err != nil {
		c.internal(err)
		return
	}
	delete(f.st.repos, c.repo.key())
	c.noContent(http.StatusNoContent)
}

// ref resolves the call's "ref" query parameter, or the default branch.
func (c *call) resolveRef(g *gitRepo, ref string) (plumbing.Hash, bool) {
	if ref == "" {
		ref = c.repo.defaultBranch
	}
	h, err := g.resolve(ref)
	if err != nil {
		c.fail(http.StatusNotFound, "No commit found for the ref "+ref)
		return plumbing.ZeroHash, false
	}
	return h, true
}

func (c *call) contentLinks(p, sha, ref string, dir bool) (self, git, html, download string) {
	r := c.repo
	self = c.repoURL(r) + "/contents/" + p + "?ref=" + ref
	kind := "blob"
	gitKind := "blobs"
	if dir {
		kind, gitKind = "tree", "trees"
	}
	git = c.repoURL(r) + "/git/" + gitKind + "/" + sha
	html = c.web + "/" + r.fullName() + "/" + kind + "/" + ref + "/" + p
	if !dir {
		download = c.web + "/raw/" + r.fullName() + "/" + ref + "/" + p
	}
	return self, git, html, download
}

func (f *Fake) getContents(c *call) {
	g := c.git()
	if g == nil {
		return
	}
	ref := c.query("ref")
	if ref == "" {
		ref = c.repo.defaultBranch
	}
	h, ok := c.resolveRef(g, ref)
	if !ok {
		return
	}
	p := strings.Trim(c.params["path"], "/")
	co, err := g.commit(h)
	if err != nil {
		c.internal(err)
		return
	}
	tree, err := co.Tree()
	if err != nil {
		c.internal(err)
		return
	}
	if p != "" {
		e, err := tree.FindEntry(p)
		if err != nil {
			c.fail(http.StatusNotFound, "Not Found")
			return
		}
		if e.Mode != filemode.Dir {
			data, err := g.readBlob(e.Hash)
			if err != nil {
				c.internal(err)
				return
			}
			self, git, html, download := c.contentLinks(p, e.Hash.String(), ref, false)
			c.json(http.StatusOK, obj{
				"type":         "file",
				"encoding":     "base64",
				"size":         len(data),
				"name":         path.Base(p),
				"path":         p,
				"content":      wrap60(base64.StdEncoding.EncodeToString(data)),
				"sha":          e.Hash.String(),
				"url":          self,
				"git_url":      git,
				"html_url":     html,
				"download_url": download,
				"_links":       obj{"self": self, "git": git, "html": html},
			})
			return
		}
		if tree, err = tree.Tree(p); err != nil {
			c.internal(err)
			return
		}
	}
	list := []obj{}
	for _, e := range tree.Entries {
		ep := strings.TrimPrefix(p+"/"+e.Name, "/")
		typ := "file"
		size := int64(0)
		switch e.Mode {
		case filemode.Dir:
			typ = "dir"
		case filemode.Submodule:
			typ = "submodule"
		case filemode.Symlink:
			typ = "symlink"
		default:
			if s, err := tree.Size(e.Name); err == nil {
				size = s
			}
		}
		self, git, html, download := c.contentLinks(ep, e.Hash.String(), ref, typ == "dir")
		list = append(list, obj{
			"type":         typ,
			"size":         size,
			"name":         e.Name,
			"path":         ep,
			"sha":          e.Hash.String(),
			"url":          self,
			"git_url":      git,
			"html_url":     html,
			"download_url": strOrNil(download),
			"_links":       obj{"self": self, "git": git, "html": html},
		})
	}
	c.json(http.StatusOK, list)
}

func wrap60(s string) string {
	var b strings.Builder
	for len(s) > 60 {
		b.WriteString(s[:60])
		b.WriteByte('\n')
		s = s[60:]
	}
	b.WriteString(s)
	b.WriteByte('\n')
	return b.String()
}

type commitPerson struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Date  string `json:"date"`
}

func (c *call) person(p *commitPerson, def signature) signature {
	if p == nil || p.Name == "" {
		return def
	}
	s := signature{name: p.Name, email: p.Email, when: def.when}
	if t, err := parseTime(p.Date); err == nil {
		s.when = t
	}
	return s
}

// fileCommit renders the "file-commit" of the contents API.
func (c *call) fileCommit(g *gitRepo, commit plumbing.Hash, p string, blob *plumbing.Hash, size int, branch string, status int) {
	co, err := g.commit(commit)
	if err != nil {
		c.internal(err)
		return
	}
	gc := c.gitCommit(c.repo, co)
	var content any
	if blob != nil {
		self, git, html, download := c.contentLinks(p, blob.String(), branch, false)
		content = obj{
			"name": path.Base(p), "path": p, "sha": blob.String(), "size": size, "type": "file",
			"url": self, "git_url": git, "html_url": html, "download_url": download,
			"_links": obj{"self": self, "git": git, "html": html},
		}
	}
	c.json(status, obj{"content": content, "commit": gc})
}

func (f *Fake) putContents(c *call) {
	var req struct {
		Message   string        `json:"message"`
		Content   string        `json:"content"`
		SHA       string        `json:"sha"`
		Branch    string        `json:"branch"`
		Committer *commitPerson `json:"committer"`
		Author    *commitPerson `json:"author"`
	}
	if !c.decode(&req) {
		return
	}
	if req.Message == "" {
		c.unprocessable("Commit", "message", "missing_field", "")
		return
	}
	data, err := base64.StdEncoding.DecodeString(req.Content)
	if err != nil {
		c.fail(http.StatusUnprocessableEntity, "content is not valid Base64")
		return
	}
	f.changeFile(c, req.Branch, req.SHA, req.Message, req.Author, req.Committer, data)
}

func (f *Fake) deleteContents(c *call) {
	var req struct {
		Message   string        `json:"message"`
		SHA       string        `json:"sha"`
		Branch    string        `json:"branch"`
		Committer *commitPerson `json:"committer"`
		Author    *commitPerson `json:"author"`
	}
	if !c.decode(&req) {
		return
	}
	if req.Message == "" || req.SHA == "" {
		c.unprocessable("Commit", "sha", "missing_field", "")
		return
	}
	f.changeFile(c, req.Branch, req.SHA, req.Message, req.Author, req.Committer, nil)
}

// changeFile writes (data != nil) or deletes a file with one commit on a
// branch, as the contents API does.
func (f *Fake) changeFile(c *call, branch, sha, message string, author, committer *commitPerson, data []byte) {
	g := c.git()
	if g == nil {
		return
	}
	if branch == "" {
		branch = c.repo.defaultBranch
	}
	p := strings.Trim(c.params["path"], "/")
	tip, err := g.branch(branch)
	if err != nil {
		c.fail(http.StatusNotFound, "Branch "+branch+" not found")
		return
	}
	_, cur, err := g.readFile(tip, p)
	exists := err == nil
	switch {
	case exists && cur.mode == filemode.Dir:
		c.unprocessable("Commit", "path", "invalid", p+" is a directory")
		return
	case !exists && data == nil:
		c.fail(http.StatusNotFound, "Not Found")
		return
	case exists && sha == "":
		c.unprocessable("Commit", "sha", "missing_field", "\"sha\" wasn't supplied.")
		return
	case exists && sha != cur.hash.String():
		c.fail(http.StatusConflict, fmt.Sprintf("%s does not match %s", p, sha))
		return
	}
	def := c.actor()
	a := c.person(author, c.person(committer, def))
	cm := c.person(committer, a)
	pc, err := g.commit(tip)
	if err != nil {
		c.internal(err)
		return
	}
	base, err := g.flatten(pc.TreeHash)
	if err != nil {
		c.internal(err)
		return
	}
	tree, err := g.writeFiles(base, map[string][]byte{p: data})
	if err != nil {
		c.internal(err)
		return
	}
	h, err := g.writeCommit(tree, []plumbing.Hash{tip}, a, cm, message, "")
	if err != nil {
		c.internal(err)
		return
	}
	if err := g.setRef("refs/heads/"+branch, h, &tip); err != nil {
		c.fail(http.StatusConflict, "Reference cannot be updated")
		return
	}
	c.repo.pushed = f.now()
	if data == nil {
		c.fileCommit(g, h, p, nil, 0, branch, http.StatusOK)
		return
	}
	blob := plumbing.ComputeHash(plumbing.BlobObject, data)
	status := http.StatusOK
	if !exists {
		status = http.StatusCreated
	}
	c.fileCommit(g, h, p, &blob, len(data), branch, status)
}

func (f *Fake) getBranch(c *call) {
	g := c.git()
	if g == nil {
		return
	}
	name := c.params["branch"]
	h, err := g.branch(name)
	if err != nil {
		c.fail(http.StatusNotFound, "Branch not found")
		return
	}
	co, err := g.commit(h)
	if err != nil {
		c.internal(err)
		return
	}
	a := c.repoURL(c.repo) + "/branches/" + name
	c.json(http.StatusOK, obj{
		"name":           name,
		"commit":         c.commit(c.repo, co),
		"_links":         obj{"self": a, "html": c.web + "/" + c.repo.fullName() + "/tree/" + name},
		"protected":      false,
		"protection":     obj{"enabled": false},
		"protection_url": a + "/protection",
	})
}

// legacyPermission maps a role to the "permission" field GitHub still sends.
func legacyPermission(role string) string {
	switch role {
	case "admin":
		return "admin"
	case "maintain", "write":
		return "write"
	case "triage", "read":
		return "read"
	}
	return "none"
}

func (f *Fake) collaboratorPermission(c *call) {
	login := c.params["username"]
	r := c.repo
	role := r.perms[strings.ToLower(login)]
	if role == "" && strings.EqualFold(login, r.owner) {
		role = "admin"
	}
	if role == "" && !r.private {
		role = "read"
	}
	perm := legacyPermission(role)
	if role == "" {
		role = "none"
	}
	u := c.user(login)
	u["role_name"] = role
	u["permissions"] = obj{
		"admin":    role == "admin",
		"maintain": role == "admin" || role == "maintain",
		"push":     perm == "admin" || perm == "write",
		"triage":   perm != "none" && role != "read",
		"pull":     perm != "none",
	}
	c.json(http.StatusOK, obj{"permission": perm, "role_name": role, "user": u})
}

// serveRaw serves file downloads (download_url), as raw.githubusercontent.com
// does: /raw/<owner>/<repo>/<ref>/<path>. Not an API call, not counted.
func (f *Fake) serveRaw(w http.ResponseWriter, r *http.Request, rest string) {
	parts := strings.SplitN(rest, "/", 4)
	if len(parts) < 4 {
		http.NotFound(w, r)
		return
	}
	data, err := f.File(parts[0], parts[1], parts[2], parts[3])
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}
