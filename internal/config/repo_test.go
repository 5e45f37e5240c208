package config

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/kmend/kmend/internal/finding"
)

const name = ".github/kmend.yaml"

func TestParseGood(t *testing.T) {
	full := `# kmend's settings for this repository
version: 1
controls:
  enable: [KM-001, km-002, KM-010]
  disable:
    - KM-031
minSeverity: high
grouping: directory
labels: [security, "2026"]
reviewers: ["@alice", my-org/platform-team]
assignees: [bob]
branchPrefix: bots/kmend/
paths:
  include: ["deploy/**", "apps/*/k8s/*.yaml"]
  exclude: ["**/testdata/**"]
commits: api
schedule: " 0  6 * * mon-fri "
`
	tests := []struct {
		name string
		in   string
		want func(r *Repo)
	}{
		{"version only", "version: 1\n", func(r *Repo) {}},
		{"full", full, func(r *Repo) {
			r.Controls = Controls{Enable: []string{"KM-001", "km-002", "KM-010"}, Disable: []string{"KM-031"}}
			r.MinSeverity = finding.SeverityHigh
			r.Grouping = GroupByDirectory
			r.Labels = []string{"security", "2026"}
			r.Reviewers = []string{"alice", "my-org/platform-team"}
			r.Assignees = []string{"bob"}
			r.BranchPrefix = "bots/kmend/"
			r.Paths = Paths{
				Include: []Glob{mustGlob(t, "deploy/**"), mustGlob(t, "apps/*/k8s/*.yaml")},
				Exclude: []Glob{mustGlob(t, "**/testdata/**")},
			}
			r.Commits = CommitsAPI
			r.Schedule = "0 6 * * mon-fri"
		}},
		{"no labels", "version: 1\nlabels: []\n", func(r *Repo) { r.Labels = []string{} }},
		{"empty schedule", "version: 1\nschedule:\n", func(r *Repo) {}},
		{"descriptor", "version: 1\nschedule: \"@every 12h\"\n", func(r *Repo) { r.Schedule = "@every 12h" }},
		{"aliases", "version: 1\nlabels: &l [a, b]\nassignees: *l\n", func(r *Repo) {
			r.Labels, r.Assignees = []string{"a", "b"}, []string{"a", "b"}
		}},
		{"document marker and comments", "---\n# comment\nversion: 1 # the format\ngrouping: control\n", func(r *Repo) { r.Grouping = GroupByControl }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.in), name)
			if err != nil {
				t.Fatal(err)
			}
			want := Default()
			want.File = name
			tt.want(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func mustGlob(t *testing.T, p string) Glob {
	t.Helper()
	g, err := ParseGlob(p)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestParseBad(t *testing.T) {
	tests := []struct {
		name string
		in   string
		// want is one "line key: message part" per expected error.
		want []string
	}{
		{"unknown key", "version: 1\nminSeverity: low\nlabelz: [a]\n", []string{`3 labelz: unknown key (known keys: assignees, branchPrefix,`}},
		{"unknown nested key", "version: 1\npaths:\n  include: [a]\n  includes: [b]\n", []string{`4 paths.includes: unknown key (known keys: exclude, include)`}},
		{"wrong version", "version: 2\nfuture: yes\n", []string{`1 version: unsupported version 2: this kmend reads version 1`}},
		{"version as string", "version: \"1\"\n", []string{`1 version: must be a whole number, not "1"`}},
		{"missing version", "grouping: control\n", []string{`1 version: missing: start the file with "version: 1"`}},
		{"empty file", "", []string{`0 version: missing: the file is empty`}},
		{"only a comment", "# nothing\n", []string{`0 version: missing: the file is empty`}},
		{"not a mapping", "- version: 1\n", []string{`1 : must be a mapping of keys, not a list`}},
		{"bad grouping", "version: 1\ngrouping: team\n", []string{`2 grouping: unknown value "team" (want one of repository, control, severity, directory)`}},
		{"bad severity", "version: 1\nminSeverity: urgent\n", []string{`2 minSeverity: unknown severity "urgent"`}},
		{"upper-case severity", "version: 1\nminSeverity: HIGH\n", []string{`2 minSeverity: unknown severity "HIGH"`}},
		{"unknown severity name", "version: 1\nminSeverity: unknown\n", []string{`2 minSeverity: unknown severity "unknown"`}},
		{"bad commits", "version: 1\ncommits: svn\n", []string{`2 commits: unknown value "svn" (want one of git, api)`}},
		{"bad globs", "version: 1\npaths:\n  include:\n    - ok/**\n    - apps/**x\n    - /etc/*\n  exclude: [a/../b, \"[a\", dir/, \"a//b\", \"\"]\n", []string{
			`5 paths.include[1]: "apps/**x": "**" must be a whole path segment`,
			`6 paths.include[2]: "/etc/*": must be relative`,
			`7 paths.exclude[0]: "a/../b": "." and ".." segments are not allowed`,
			`7 paths.exclude[1]: "[a": malformed pattern`,
			`7 paths.exclude[2]: "dir/": ends with /`,
			`7 paths.exclude[3]: "a//b": empty path segment`,
			`7 paths.exclude[4]: "": empty pattern`,
		}},
		{"prefix without slash", "version: 1\nbranchPrefix: kmend\n", []string{`2 branchPrefix: "kmend": must end with /`}},
		{"prefix with space", "version: 1\nbranchPrefix: \"km end/\"\n", []string{`2 branchPrefix: "km end/": contains ' '`}},
		{"prefix with ..", "version: 1\nbranchPrefix: a..b/\n", []string{`2 branchPrefix: "a..b/": contains ".."`}},
		{"prefix dot component", "version: 1\nbranchPrefix: .kmend/\n", []string{`2 branchPrefix: ".kmend/": component ".kmend"`}},
		{"prefix .lock", "version: 1\nbranchPrefix: x.lock/\n", []string{`2 branchPrefix: "x.lock/": component "x.lock"`}},
		{"prefix refs", "version: 1\nbranchPrefix: refs/heads/\n", []string{`2 branchPrefix: "refs/heads/": must not start with`}},
		{"prefix colon", "version: 1\nbranchPrefix: \"a:b/\"\n", []string{`2 branchPrefix: "a:b/": contains ':'`}},
		{"prefix slash only", "version: 1\nbranchPrefix: /\n", []string{`2 branchPrefix: "/": must name a directory`}},
		{"bad reviewers", "version: 1\nreviewers: [\"not a login\", a/b/c]\nassignees: [org/team]\n", []string{
			`2 reviewers[0]: "not a login" is neither a GitHub login nor a team`,
			`2 reviewers[1]: "a/b/c" is neither`,
			`3 assignees[0]: "org/team" is not a GitHub login`,
		}},
		{"too many assignees", "version: 1\nassignees: [a,b,c,d,e,f,g,h,i,j,k]\n", []string{`2 assignees: 11 entries; GitHub accepts at most 10`}},
		{"bad labels", "version: 1\nlabels:\n  - a\n  - A\n  - \"\"\n  - " + strings.Repeat("x", 51) + "\n", []string{
			`4 labels[1]: "A" is listed twice`,
			`5 labels[2]: empty label`,
			`6 labels[3]: longer than GitHub's 50 characters`,
		}},
		{"controls both ways", "version: 1\ncontrols:\n  enable: [KM-001]\n  disable: [km-001]\n", []string{`4 controls.disable: km-001 is also in controls.enable`}},
		{"bad control ID", "version: 1\ncontrols:\n  disable: [\"KM 001\"]\n", []string{`3 controls.disable[0]: "KM 001" is not a control ID`}},
		{"labels not a list", "version: 1\nlabels: security\n", []string{`2 labels: must be a list, not "security"`}},
		{"controls not a mapping", "version: 1\ncontrols: [KM-001]\n", []string{`2 controls: must be a mapping, not a list`}},
		{"boolean label", "version: 1\nlabels: [true]\n", []string{`2 labels[0]: must be a string, not the boolean true (quote it)`}},
		{"null label", "version: 1\nlabels: [~]\n", []string{`2 labels[0]: must be a string, not null`}},
		{"bad schedules", "version: 1\nschedule: every day\n", []string{`2 schedule: "every day": 2 fields; a cron schedule has 5`}},
		{"minute out of range", "version: 1\nschedule: \"61 * * * *\"\n", []string{`2 schedule: "61 * * * *": minute field "61": 61 is outside 0-59`}},
		{"too often", "version: 1\nschedule: \"@every 5m\"\n", []string{`2 schedule: "@every 5m": @every 5m0s is more often than every 1h0m0s`}},
		{"backwards range", "version: 1\nschedule: \"0 0 * dec-jan *\"\n", []string{`2 schedule: "0 0 * dec-jan *": month field "dec-jan": range dec-jan runs backwards`}},
		{"bad descriptor", "version: 1\nschedule: \"@sometimes\"\n", []string{`2 schedule: "@sometimes": unknown descriptor`}},
		{"syntax error", "version: 1\nlabels: \"a\n", []string{`2 : invalid YAML: found unexpected end of stream`}},
		{"duplicate key", "version: 1\nlabels: [a]\nlabels: [b]\n", []string{`3 labels: set twice (first at line 2)`}},
		{"two documents", "version: 1\n---\nversion: 1\n", []string{`2 : more than one YAML document`}},
		{"tab indentation", "version: 1\npaths:\n\tinclude: [a]\n", []string{`3 : invalid YAML: found character that cannot start any token`}},
		{"several mistakes", "version: 1\ngrouping: x\ncommits: y\nfoo: 1\n", []string{
			`2 grouping: unknown value "x"`,
			`3 commits: unknown value "y"`,
			`4 foo: unknown key`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse([]byte(tt.in), name)
			if err == nil {
				t.Fatalf("no error; got %+v", r)
			}
			if r != nil {
				t.Errorf("a Repo came with the error")
			}
			errs := Errors(err)
			if len(errs) != len(tt.want) {
				t.Fatalf("%d errors, want %d:\n%v", len(errs), len(tt.want), err)
			}
			for i, e := range errs {
				if e.File != name {
					t.Errorf("error %d names file %q", i, e.File)
				}
				got := strings.TrimSpace(strings.Join([]string{strconv.Itoa(e.Line), e.Key + ":", e.Msg}, " "))
				if !strings.HasPrefix(got, tt.want[i]) {
					t.Errorf("error %d:\n got  %s\n want %s...", i, got, tt.want[i])
				}
				if !strings.HasPrefix(e.Error(), name) {
					t.Errorf("Error() = %q does not start with the file", e.Error())
				}
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	_, err := Parse([]byte("version: 1\nlabelz: []\n"), name)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%v is not an *Error", err)
	}
	want := `.github/kmend.yaml:2: labelz: unknown key (known keys: assignees, branchPrefix, commits, controls, grouping, labels, minSeverity, paths, reviewers, schedule, version)`
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
}

func TestDefault(t *testing.T) {
	d := Default()
	if d.MinSeverity != finding.SeverityMedium || d.Grouping != GroupByRepository || d.BranchPrefix != "kmend/" ||
		d.Commits != CommitsGit || !reflect.DeepEqual(d.Labels, []string{"security", "kmend"}) || d.Version != 1 {
		t.Errorf("Default() = %+v", d)
	}
	d.Labels[0] = "changed"
	if DefaultLabels[0] != "security" || Default().Labels[0] != "security" {
		t.Error("Default shares its labels")
	}
	if !d.Includes("any/file.yaml") || !d.ControlEnabled("KM-001") {
		t.Error("the default configuration excludes something")
	}
}

func TestIncludes(t *testing.T) {
	r, err := Parse([]byte(`version: 1
paths:
  include: ["deploy/**", "apps/*/k8s/*.yaml", "**/kustomization.yaml"]
  exclude: ["**/testdata/**", "deploy/legacy/*"]
`), name)
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]bool{
		"deploy/app.yaml":                           true,
		"deploy/a/b/c/app.yaml":                     true,
		"./deploy/app.yaml":                         true,
		"deploy/legacy/old.yaml":                    false,
		"deploy/legacy/nested/old.yaml":             true, // * does not cross /
		"deploy/testdata/x.yaml":                    false,
		"apps/shop/k8s/deploy.yaml":                 true,
		"apps/shop/k8s/deploy.yml":                  false,
		"apps/shop/extra/k8s/deploy.yaml":           false,
		"kustomization.yaml":                        true, // ** matches no segment
		"overlays/prod/kustomization.yaml":          true,
		"overlays/prod/testdata/kustomization.yaml": false,
		"README.md":                                 false,
		"../deploy/app.yaml":                        false,
		"/deploy/app.yaml":                          false,
		"deploy/../../etc/passwd":                   false,
		"":                                          false,
	}
	for p, want := range tests {
		if got := r.Includes(p); got != want {
			t.Errorf("Includes(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"*.yaml", "a.yaml", true},
		{"*.yaml", "dir/a.yaml", false},
		{"**/*.yaml", "a.yaml", true},
		{"**/*.yaml", "x/y/z/a.yaml", true},
		{"a/**/b", "a/b", true},
		{"a/**/b", "a/x/y/b", true},
		{"a/**/b", "a/x/y/c", false},
		{"a/**/**/b", "a/x/b", true},
		{"**", "anything/at/all", true},
		{"a/**", "a", true},
		{"a/**", "ab/c", false},
		{"[ab]?/*.y*ml", "b1/x.yaml", true},
		{"[^a]/x", "a/x", false},
		{"[^a]/x", "b/x", true},
		{`\*.yaml`, "*.yaml", true},
		{`\*.yaml`, "a.yaml", false},
		{"**/a/**/b/**/c", "x/a/y/b/z/c", true},
		{"**/a/**/b/**/c", "x/a/y/c/z/b", false},
	}
	for _, tt := range tests {
		g := mustGlob(t, tt.pattern)
		if got := g.Match(tt.name); got != tt.want {
			t.Errorf("%q.Match(%q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
		if g.String() != tt.pattern {
			t.Errorf("String() = %q", g.String())
		}
	}
}

func TestControlEnabled(t *testing.T) {
	tests := []struct {
		yaml string
		on   []string
		off  []string
	}{
		{"version: 1\n", []string{"KM-001", "KM-037", "C-0016"}, nil},
		{"version: 1\ncontrols: {disable: [KM-010, km-011]}\n", []string{"KM-001"}, []string{"KM-010", "km-010", "KM-011"}},
		{"version: 1\ncontrols: {enable: [KM-001, KM-002], disable: [KM-003]}\n", []string{"KM-001", "km-002"}, []string{"KM-003", "KM-004"}},
	}
	for _, tt := range tests {
		r, err := Parse([]byte(tt.yaml), name)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range tt.on {
			if !r.ControlEnabled(id) {
				t.Errorf("%q: %s disabled", tt.yaml, id)
			}
		}
		for _, id := range tt.off {
			if r.ControlEnabled(id) {
				t.Errorf("%q: %s enabled", tt.yaml, id)
			}
		}
	}
	r := Default()
	if r.SeverityEnabled(finding.SeverityLow) || !r.SeverityEnabled(finding.SeverityMedium) || !r.SeverityEnabled(finding.SeverityCritical) {
		t.Error("SeverityEnabled does not follow minSeverity medium")
	}
}

func TestSchedule(t *testing.T) {
	good := []string{"", "@daily", "@weekly", "@every 1h", "@every 24h", "*/15 * * * *", "0 6 * * 1-5", "0 6 1,15 * *",
		"0 0 * jan-mar sun", "0 0 ? * 7", "5-55/10 0-23/2 1-31 1-12 0-7"}
	bad := []string{"@every", "@every 30m", "@every soon", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *",
		"* * * 13 *", "* * * * 8", "*/0 * * * *", "a * * * *", "1-2-3 * * * *", ", * * * *"}
	for _, s := range good {
		if err := checkSchedule(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range bad {
		if err := checkSchedule(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}
