package config

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/lazyre"
)

// Version is the configuration format this kmend reads, in both the
// repository and the server configuration.
const Version = 1

// RepoFile is where a repository's configuration lives.
const RepoFile = ".github/kmend.yaml"

// Grouping says which findings share one pull request.
type Grouping string

// Groupings.
const (
	GroupByRepository Grouping = "repository" // one PR for the repository
	GroupByControl    Grouping = "control"    // one PR per control
	GroupBySeverity   Grouping = "severity"   // one PR per severity
	GroupByDirectory  Grouping = "directory"  // one PR per directory of the fixed files
)

// Commits says how kmend commits.
type Commits string

// Commit modes.
const (
	CommitsGit Commits = "git" // push commits made with git
	CommitsAPI Commits = "api" // create commits through the GitHub API (signed by GitHub)
)

// Repo is a repository's configuration, validated, with defaults filled
// in. The zero value is not useful: use Default or Parse.
type Repo struct {
	// File is the file it was read from, "" for Default.
	File string
	// Version is the format version, always Version.
	Version int
	// Controls chooses the controls kmend fixes.
	Controls Controls
	// MinSeverity is the lowest severity kmend fixes.
	MinSeverity finding.Severity
	// Grouping says which findings share a pull request.
	Grouping Grouping
	// Labels are put on kmend's pull requests.
	Labels []string
	// Reviewers are requested on kmend's pull requests: user logins and
	// teams ("org/team").
	Reviewers []string
	// Assignees are assigned kmend's pull requests (user logins).
	Assignees []string
	// BranchPrefix starts the name of kmend's branches; it ends in "/".
	BranchPrefix string
	// Paths chooses the files kmend reads and fixes.
	Paths Paths
	// Commits says how kmend commits.
	Commits Commits
	// Schedule is when kmend scans the default branch unprompted, ""
	// for never.
	Schedule string
}

// Controls chooses controls by their catalog ID (KM-001, or the ID of a
// control from a custom catalog), case-insensitively.
type Controls struct {
	// Enable, when not empty, is the only controls kmend fixes.
	Enable []string
	// Disable lists controls kmend never fixes.
	Disable []string
}

// Paths chooses files by glob (see Glob).
type Paths struct {
	Include []Glob
	Exclude []Glob
}

// Defaults of the repository configuration.
const (
	DefaultMinSeverity  = finding.SeverityMedium
	DefaultGrouping     = GroupByRepository
	DefaultBranchPrefix = "kmend/"
	DefaultCommits      = CommitsGit
)

// DefaultLabels are the labels of kmend's pull requests when the
// configuration names none.
var DefaultLabels = []string{"security", "kmend"}

// Default returns the configuration of a repository without
// .github/kmend.yaml.
func Default() *Repo {
	return &Repo{
		Version:      Version,
		MinSeverity:  DefaultMinSeverity,
		Grouping:     DefaultGrouping,
		Labels:       slices.Clone(DefaultLabels),
		BranchPrefix: DefaultBranchPrefix,
		Commits:      DefaultCommits,
	}
}

// Parse reads a repository configuration strictly: unknown keys, values of
// the wrong type or outside their enumeration, malformed globs, branch
// prefixes and schedules are errors (*Error, joined) that name the file
// (name), the line and the key. "version: 1" is required.
func Parse(data []byte, name string) (*Repo, error) {
	d := &decoder{file: name}
	root := d.parseDocument(data)
	if len(d.errs) > 0 {
		return nil, d.err()
	}
	if root == nil {
		return nil, &Error{File: name, Key: "version", Msg: fmt.Sprintf("missing: the file is empty; start it with \"version: %d\"", Version)}
	}
	if root = resolve(root); root.Kind != yaml.MappingNode {
		return nil, &Error{File: name, Line: root.Line, Msg: "must be a mapping of keys, not " + describe(root)}
	}
	if !d.version(root) {
		return nil, d.err()
	}
	r := Default()
	r.File = name
	d.mapping(root, "", map[string]field{
		"version": func(string, *yaml.Node) {}, // checked above
		"controls": func(key string, v *yaml.Node) {
			d.mapping(v, key, map[string]field{
				"enable":  func(key string, v *yaml.Node) { r.Controls.Enable = d.controlIDs(v, key) },
				"disable": func(key string, v *yaml.Node) { r.Controls.Disable = d.controlIDs(v, key) },
			})
		},
		"minSeverity": func(key string, v *yaml.Node) {
			if s, ok := d.str(v, key); ok {
				sev, err := finding.ParseSeverity(s)
				if err != nil || s != strings.ToLower(s) {
					d.fail(v, key, "unknown severity %q (want one of info, low, medium, high, critical)", s)
					return
				}
				r.MinSeverity = sev
			}
		},
		"grouping": func(key string, v *yaml.Node) {
			if s, ok := d.enum(v, key, "repository", "control", "severity", "directory"); ok {
				r.Grouping = Grouping(s)
			}
		},
		"labels":    func(key string, v *yaml.Node) { r.Labels = d.labels(v, key) },
		"reviewers": func(key string, v *yaml.Node) { r.Reviewers = d.logins(v, key, true, 15) },
		"assignees": func(key string, v *yaml.Node) { r.Assignees = d.logins(v, key, false, 10) },
		"branchPrefix": func(key string, v *yaml.Node) {
			if s, ok := d.str(v, key); ok {
				if err := checkBranchPrefix(s); err != nil {
					d.fail(v, key, "%q: %v", s, err)
					return
				}
				r.BranchPrefix = s
			}
		},
		"paths": func(key string, v *yaml.Node) {
			d.mapping(v, key, map[string]field{
				"include": func(key string, v *yaml.Node) { r.Paths.Include = d.globs(v, key) },
				"exclude": func(key string, v *yaml.Node) { r.Paths.Exclude = d.globs(v, key) },
			})
		},
		"commits": func(key string, v *yaml.Node) {
			if s, ok := d.enum(v, key, "git", "api"); ok {
				r.Commits = Commits(s)
			}
		},
		"schedule": func(key string, v *yaml.Node) {
			n := resolve(v)
			if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
				return // "schedule:" with nothing after it: never
			}
			if s, ok := d.str(v, key); ok {
				if err := checkSchedule(s); err != nil {
					d.fail(v, key, "%q: %v", s, err)
					return
				}
				r.Schedule = strings.Join(strings.Fields(s), " ")
			}
		},
	})
	d.crossCheck(root, r)
	if len(d.errs) > 0 {
		return nil, d.err()
	}
	return r, nil
}

// crossCheck finds the mistakes that involve two keys.
func (d *decoder) crossCheck(root *yaml.Node, r *Repo) {
	for _, id := range r.Controls.Disable {
		if slices.ContainsFunc(r.Controls.Enable, func(e string) bool { return strings.EqualFold(e, id) }) {
			d.fail(valueNode(root, "controls", "disable"), "controls.disable", "%s is also in controls.enable", id)
		}
	}
}

// valueNode returns the value at keys under root, or the deepest one found.
func valueNode(root *yaml.Node, keys ...string) *yaml.Node {
	n := root
	for _, k := range keys {
		n = resolve(n)
		if n.Kind != yaml.MappingNode {
			return n
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				n, found = n.Content[i+1], true
				break
			}
		}
		if !found {
			return n
		}
	}
	return n
}

// enum decodes a string that must be one of values (exactly, lower case).
func (d *decoder) enum(n *yaml.Node, key string, values ...string) (string, bool) {
	s, ok := d.str(n, key)
	if !ok {
		return "", false
	}
	if !slices.Contains(values, s) {
		d.fail(n, key, "unknown value %q (want one of %s)", s, strings.Join(values, ", "))
		return "", false
	}
	return s, true
}

// controlIDRE is the catalog's rule for control IDs, ignoring case.
var controlIDRE = lazyre.New(`(?i)^[A-Z][A-Z0-9]*-[A-Z0-9][A-Z0-9-]*$`)

func (d *decoder) controlIDs(n *yaml.Node, key string) []string {
	items, lines, _ := d.strList(n, key)
	var out []string
	for i, id := range items {
		if !controlIDRE.MatchString(id) {
			d.errs = append(d.errs, &Error{File: d.file, Line: lines[i], Key: fmt.Sprintf("%s[%d]", key, i), Msg: fmt.Sprintf("%q is not a control ID (like KM-001)", id)})
			continue
		}
		out = append(out, id)
	}
	return out
}

func (d *decoder) labels(n *yaml.Node, key string) []string {
	items, lines, _ := d.strList(n, key)
	out := []string{}
	for i, l := range items {
		k := fmt.Sprintf("%s[%d]", key, i)
		switch {
		case strings.TrimSpace(l) == "":
			d.errs = append(d.errs, &Error{File: d.file, Line: lines[i], Key: k, Msg: "empty label"})
		case len([]rune(l)) > 50:
			d.errs = append(d.errs, &Error{File: d.file, Line: lines[i], Key: k, Msg: "longer than GitHub's 50 characters"})
		case slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, l) }):
			d.errs = append(d.errs, &Error{File: d.file, Line: lines[i], Key: k, Msg: fmt.Sprintf("%q is listed twice", l)})
		default:
			out = append(out, l)
		}
	}
	return out
}

var (
	loginRE = lazyre.New(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)
	teamRE  = lazyre.New(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)
)

// logins decodes GitHub user logins (a leading @ is dropped) and, when
// teams is true, teams as "org/team-slug"; GitHub accepts at most max.
func (d *decoder) logins(n *yaml.Node, key string, teams bool, max int) []string {
	items, lines, _ := d.strList(n, key)
	var out []string
	for i, s := range items {
		s = strings.TrimPrefix(s, "@")
		k := fmt.Sprintf("%s[%d]", key, i)
		switch {
		case loginRE.MatchString(s), teams && teamRE.MatchString(s):
			if slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, s) }) {
				d.errs = append(d.errs, &Error{File: d.file, Line: lines[i], Key: k, Msg: fmt.Sprintf("%q is listed twice", s)})
				continue
			}
			out = append(out, s)
		case teams:
			d.errs = append(d.errs, &Error{File: d.file, Line: lines[i], Key: k, Msg: fmt.Sprintf("%q is neither a GitHub login nor a team (org/team)", s)})
		default:
			d.errs = append(d.errs, &Error{File: d.file, Line: lines[i], Key: k, Msg: fmt.Sprintf("%q is not a GitHub login", s)})
		}
	}
	if len(out) > max {
		d.fail(n, key, "%d entries; GitHub accepts at most %d", len(out), max)
	}
	return out
}

func (d *decoder) globs(n *yaml.Node, key string) []Glob {
	items, lines, _ := d.strList(n, key)
	var out []Glob
	for i, s := range items {
		g, err := ParseGlob(s)
		if err != nil {
			d.errs = append(d.errs, &Error{File: d.file, Line: lines[i], Key: fmt.Sprintf("%s[%d]", key, i), Msg: fmt.Sprintf("%q: %v", s, err)})
			continue
		}
		out = append(out, g)
	}
	return out
}

// checkBranchPrefix checks that prefix followed by a name is a valid branch
// (git check-ref-format's rules) and that prefix ends with "/".
func checkBranchPrefix(prefix string) error {
	if !strings.HasSuffix(prefix, "/") {
		return fmt.Errorf("must end with /")
	}
	if prefix == "/" {
		return fmt.Errorf("must name a directory before the /")
	}
	for _, c := range prefix {
		if c < 0x20 || c == 0x7f || strings.ContainsRune(" ~^:?*[\\", c) {
			return fmt.Errorf("contains %q, which git does not allow in a branch name", c)
		}
	}
	if strings.Contains(prefix, "..") || strings.Contains(prefix, "@{") || strings.Contains(prefix, "//") {
		return fmt.Errorf(`contains "..", "@{" or "//", which git does not allow in a branch name`)
	}
	if strings.HasPrefix(prefix, "-") || strings.HasPrefix(prefix, "refs/") {
		return fmt.Errorf(`must not start with "-" or "refs/"`)
	}
	for _, seg := range strings.Split(strings.TrimSuffix(prefix, "/"), "/") {
		if strings.HasPrefix(seg, ".") || strings.HasSuffix(seg, ".lock") || seg == "@" {
			return fmt.Errorf("component %q: git does not allow components that start with \".\", end with \".lock\" or are \"@\"", seg)
		}
	}
	if len(prefix) > 100 {
		return fmt.Errorf("longer than 100 characters")
	}
	return nil
}

// Includes reports whether kmend reads and fixes the file at name, a
// slash-separated path relative to the repository's root: it matches one
// of paths.include (or paths.include is empty) and none of paths.exclude.
// Paths that leave the repository ("../x", "/etc/x") are never included.
func (r *Repo) Includes(name string) bool {
	name = strings.TrimPrefix(name, "./")
	if name == "" || strings.HasPrefix(name, "/") {
		return false
	}
	name = path.Clean(name)
	if name == "." || name == ".." || strings.HasPrefix(name, "../") {
		return false
	}
	if len(r.Paths.Include) > 0 && !slices.ContainsFunc(r.Paths.Include, func(g Glob) bool { return g.Match(name) }) {
		return false
	}
	return !slices.ContainsFunc(r.Paths.Exclude, func(g Glob) bool { return g.Match(name) })
}

// ControlEnabled reports whether kmend may fix control id: it is in
// controls.enable (or controls.enable is empty) and not in
// controls.disable. IDs compare case-insensitively. minSeverity is checked
// separately, against the control's severity.
func (r *Repo) ControlEnabled(id string) bool {
	eq := func(s string) bool { return strings.EqualFold(s, id) }
	if len(r.Controls.Enable) > 0 && !slices.ContainsFunc(r.Controls.Enable, eq) {
		return false
	}
	return !slices.ContainsFunc(r.Controls.Disable, eq)
}

// SeverityEnabled reports whether findings of severity s are at or above
// minSeverity.
func (r *Repo) SeverityEnabled(s finding.Severity) bool { return s >= r.MinSeverity }
