package githubfake

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"sort"
	"strings"
	"time"
)

// state is everything the fake knows apart from git objects and refs, which
// live in the bare repositories only. Guarded by Fake.mu.
type state struct {
	created time.Time
	app     *appState
	nextID  int64
	users   map[string]int64 // login (lower case) → user ID

	installations map[int64]*installation
	tokens        map[string]*token
	manifestCodes map[string]bool
	manifests     map[string]*manifestApp // code → the manifest posted on the web pages (web.go)
	manifestPosts []ManifestPost
	repos         map[string]*repoState // "owner/name" in lower case
}

type appState struct {
	id            int64
	slug          string
	name          string
	owner         string
	clientID      string
	clientSecret  string
	webhookSecret string
	key           *rsa.PrivateKey
	pem           []byte
	created       time.Time
	// From a manifest (web.go); zero values mean kmend's settings.
	description, externalURL string
	permissions              map[string]string
	events                   []string
}

type installation struct {
	id          int64
	account     string
	accountType string
	selection   string          // "all" or "selected"
	repos       map[string]bool // lower-case full names, for "selected"
	permissions map[string]string
	events      []string
	created     time.Time
	updated     time.Time
}

type token struct {
	value   string
	inst    *installation // nil for user tokens
	user    string        // for user tokens
	expires time.Time
	repos   map[string]bool // lower-case full names; nil means all of the installation's
	perms   map[string]string
}

type repoState struct {
	id            int64
	owner, name   string
	defaultBranch string
	private       bool
	description   string
	homepage      string
	archived      bool
	created       time.Time
	updated       time.Time
	pushed        time.Time

	nextNumber int
	issues     map[int]*issueState
	comments   []*commentState
	labels     map[string]*labelState // lower-case name
	checkRuns  []*checkRunState
	perms      map[string]string // login (lower case) → admin, maintain, write, triage, read
}

type issueState struct {
	id        int64
	number    int
	title     string
	body      string
	state     string // open, closed
	user      string
	labels    []string // label names as stored in repo.labels
	assignees []string
	created   time.Time
	updated   time.Time
	closed    time.Time
	pr        *prState // nil for a plain issue
}

type prState struct {
	id                  int64
	head, base          string // branch names
	headSHA, baseSHA    string // last known tips (frozen once closed)
	draft               bool
	maintainerCanModify bool
	merged              bool
	mergedAt            time.Time
	mergedBy            string
	mergeCommitSHA      string
	reviewers           []string
	teamReviewers       []string
}

type commentState struct {
	id        int64
	issue     int
	user      string
	body      string
	created   time.Time
	updated   time.Time
	reactions []*reactionState
}

type reactionState struct {
	id      int64
	user    string
	content string
	created time.Time
}

type labelState struct {
	id          int64
	name        string
	color       string
	description string
}

type checkRunState struct {
	id          int64
	name        string
	headSHA     string
	status      string
	conclusion  string
	detailsURL  string
	externalID  string
	started     time.Time
	completed   time.Time
	title       string
	summary     string
	text        string
	annotations int
}

func newState(now time.Time, appID int64, slug string, key *rsa.PrivateKey) *state {
	st := &state{
		created:       now,
		nextID:        1,
		users:         map[string]int64{},
		installations: map[int64]*installation{},
		tokens:        map[string]*token{},
		manifestCodes: map[string]bool{},
		manifests:     map[string]*manifestApp{},
		repos:         map[string]*repoState{},
	}
	st.app = &appState{
		id:            appID,
		slug:          slug,
		name:          slug,
		owner:         "kmend",
		clientID:      "Iv1." + randomHex(8),
		clientSecret:  randomHex(20),
		webhookSecret: randomHex(16),
		key:           key,
		pem:           keyPEM(key),
		created:       now,
	}
	return st
}

func keyPEM(key *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
}

func (st *state) id() int64 {
	st.nextID++
	return st.nextID
}

func (st *state) userID(login string) int64 {
	k := strings.ToLower(login)
	if id, ok := st.users[k]; ok {
		return id
	}
	id := st.id()
	st.users[k] = id
	return id
}

func (st *state) repo(owner, name string) *repoState {
	return st.repos[strings.ToLower(owner+"/"+name)]
}

func (st *state) botLogin() string { return st.app.slug + "[bot]" }

// installationFor returns the installation on an account, if any.
func (st *state) installationFor(account string) *installation {
	for _, id := range st.installationIDs() {
		if inst := st.installations[id]; strings.EqualFold(inst.account, account) {
			return inst
		}
	}
	return nil
}

func (st *state) installationIDs() []int64 {
	ids := make([]int64, 0, len(st.installations))
	for id := range st.installations {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// installedRepos lists the repositories an installation can reach.
func (st *state) installedRepos(inst *installation) []*repoState {
	var out []*repoState
	for _, k := range sortedKeys(st.repos) {
		r := st.repos[k]
		if inst.covers(r) {
			out = append(out, r)
		}
	}
	return out
}

func (inst *installation) covers(r *repoState) bool {
	if !strings.EqualFold(inst.account, r.owner) {
		return false
	}
	return inst.selection == "all" || inst.repos[r.key()]
}

func (r *repoState) key() string      { return strings.ToLower(r.owner + "/" + r.name) }
func (r *repoState) fullName() string { return r.owner + "/" + r.name }

func (r *repoState) pulls() []*issueState {
	var out []*issueState
	for _, n := range r.numbers() {
		if is := r.issues[n]; is.pr != nil {
			out = append(out, is)
		}
	}
	return out
}

func (r *repoState) numbers() []int {
	ns := make([]int, 0, len(r.issues))
	for n := range r.issues {
		ns = append(ns, n)
	}
	sort.Ints(ns)
	return ns
}

func (r *repoState) comment(id int64) *commentState {
	for _, cm := range r.comments {
		if cm.id == id {
			return cm
		}
	}
	return nil
}

func (r *repoState) issueComments(n int) []*commentState {
	var out []*commentState
	for _, cm := range r.comments {
		if cm.issue == n {
			out = append(out, cm)
		}
	}
	return out
}

// label returns the repository's label with that name, creating it as GitHub
// does when a new label is added to an issue.
func (st *state) label(r *repoState, name string) *labelState {
	k := strings.ToLower(name)
	if l, ok := r.labels[k]; ok {
		return l
	}
	l := &labelState{id: st.id(), name: name, color: labelColor(name)}
	r.labels[k] = l
	return l
}

func labelColor(name string) string {
	return hashHex([]byte(name))[:6]
}

// defaultPermissions are what the App asks for by default: what kmend needs
// to push branches, open pull requests, comment and report checks.
func defaultPermissions() map[string]string {
	return map[string]string{
		"metadata":      "read",
		"contents":      "write",
		"pull_requests": "write",
		"issues":        "write",
		"checks":        "write",
	}
}

func copyPerms(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
