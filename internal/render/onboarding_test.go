package render

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/score"
	"github.com/kmend/kmend/internal/yamledit"
)

// scanDemo checks the whole demo repository, files named relative to it.
func scanDemo(t *testing.T) OnboardingInput {
	t.Helper()
	var files []*yamledit.File
	err := filepath.WalkDir(demoRepo, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || (filepath.Ext(p) != ".yaml" && filepath.Ext(p) != ".yml") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(demoRepo, p)
		f, err := yamledit.Parse(filepath.ToSlash(rel), data, yamledit.Options{})
		if err != nil {
			return err
		}
		files = append(files, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	set := manifest.FromFiles(files...)
	controls := builtin(t).All()
	var results []check.Result
	var findings []finding.Finding
	for _, o := range set.Objects {
		for _, r := range check.Run(controls, o, check.Options{}) {
			results = append(results, r)
			if r.Finding.Suppression == nil {
				findings = append(findings, r.Finding)
			}
		}
	}
	sc := score.Compute(set.Objects, controls, results)
	var top []finding.Finding
	for _, r := range sc.Ranked {
		top = append(top, *r.Finding)
	}
	s := sc.Overall.Score
	return OnboardingInput{
		Repo: "acme/platform", Base: "main", Head: "kmend/onboarding",
		Findings: findings, Top: top, Score: &s,
		Files: len(set.Files), Objects: len(set.Objects), Controls: len(controls),
		Catalog: CatalogDigest(controls),
		Options: Options{BlobURL: "https://github.com/acme/platform/blob/main"},
	}
}

func TestGoldenOnboarding(t *testing.T) {
	in := scanDemo(t)
	r, err := Onboarding(in)
	if err != nil {
		t.Fatal(err)
	}
	checkMarkdown(t, r)
	if len(r.Comments) != 0 {
		t.Error("the onboarding pull request has no comments")
	}
	if !strings.Contains(r.Body, fence("yaml", StarterConfig())) {
		t.Error("the body does not show the settings file")
	}
	if !strings.Contains(r.Body, "Posture score: **") || !strings.Contains(r.Body, "The 10 riskiest findings") {
		t.Error("the body lacks the score or the top findings")
	}
	m, err := ParseMetadata(r.Body)
	if err != nil || m.Kind != KindOnboarding || m.Repo != "acme/platform" || len(m.Fingerprints) != 0 {
		t.Errorf("metadata %+v, %v", m, err)
	}
	golden(t, "onboarding.md", joined(r))
}

func TestOnboardingCounts(t *testing.T) {
	in := OnboardingInput{Repo: "o/r", Files: 3, Objects: 2, TopN: 1}
	for _, s := range []finding.Severity{finding.SeverityHigh, finding.SeverityHigh, finding.SeverityLow} {
		in.Findings = append(in.Findings, finding.Finding{ControlID: "KM-X", Title: "t", Severity: s, Fixability: finding.FixAuto,
			Object: finding.ObjectRef{Kind: "Pod", Name: "p"}, Position: finding.Position{File: "p.yaml", Line: 1}})
	}
	r, err := Onboarding(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| high | 2 | 2 | 0 | 0 |", "| low | 1 | 1 | 0 | 0 |", "| **total** | **3** | 3 | 0 | 0 |",
		"The 1 most severe findings", "kmend: add .github/kmend.yaml (3 findings to fix)"} {
		if !strings.Contains(r.Title+"\n"+r.Body, want) {
			t.Errorf("missing %q", want)
		}
	}
	if strings.Contains(r.Body, "Posture score") {
		t.Error("a score that was not given is shown")
	}
	// Nothing found.
	r, err = Onboarding(OnboardingInput{Files: 1})
	if err != nil || !strings.Contains(r.Body, "found nothing to fix") || r.Title != "kmend: add .github/kmend.yaml" {
		t.Errorf("empty: %q, %v", r.Title, err)
	}
	// Too many findings listed for the limit: the list gets shorter.
	in.TopN = 3
	in.Options.Limit = Length(mustOnboarding(t, OnboardingInput{Repo: "o/r", Files: 3, Objects: 2, Findings: in.Findings, TopN: 1}).Body) + 10
	r, err = Onboarding(in)
	if err != nil || !strings.Contains(r.Body, "The 1 most severe findings") {
		t.Errorf("shortened: %v", err)
	}
	in.Options.Limit = 500
	if _, err := Onboarding(in); err == nil {
		t.Error("a limit too small for the settings file is not an error")
	}
}

func mustOnboarding(t *testing.T, in OnboardingInput) Rendered {
	t.Helper()
	r, err := Onboarding(in)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestStarterConfig(t *testing.T) {
	var cfg struct {
		Version  int `yaml:"version"`
		Controls struct {
			Enable  []string `yaml:"enable"`
			Disable []string `yaml:"disable"`
		} `yaml:"controls"`
		MinSeverity  string   `yaml:"minSeverity"`
		Grouping     string   `yaml:"grouping"`
		Labels       []string `yaml:"labels"`
		Reviewers    []string `yaml:"reviewers"`
		Assignees    []string `yaml:"assignees"`
		BranchPrefix string   `yaml:"branchPrefix"`
		Paths        struct {
			Include []string `yaml:"include"`
			Exclude []string `yaml:"exclude"`
		} `yaml:"paths"`
		Commits  string `yaml:"commits"`
		Schedule string `yaml:"schedule"`
	}
	dec := yaml.NewDecoder(bytes.NewReader([]byte(StarterConfig())))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Version != 1 || cfg.MinSeverity != "medium" || cfg.Grouping != "repository" || cfg.BranchPrefix != "kmend/" ||
		cfg.Commits != "git" || cfg.Schedule != "" || strings.Join(cfg.Labels, ",") != "security,kmend" ||
		strings.Join(cfg.Paths.Include, ",") != "**/*.yaml,**/*.yml" || cfg.Controls.Enable == nil || cfg.Paths.Exclude == nil ||
		cfg.Reviewers == nil || cfg.Assignees == nil {
		t.Errorf("starter config = %+v", cfg)
	}
	// Every key is explained by a comment just above it.
	lines := strings.Split(StarterConfig(), "\n")
	for i, l := range lines {
		if l != "" && !strings.HasPrefix(l, "#") && !strings.HasPrefix(l, " ") && i > 0 &&
			!strings.HasPrefix(lines[i-1], "#") && l != "assignees: []" {
			t.Errorf("key without a comment: %s", l)
		}
	}
}
