package render

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/kmend/kmend/internal/finding"
)

// StarterConfigPath is where the onboarding pull request adds the
// repository's kmend settings.
const StarterConfigPath = ".github/kmend.yaml"

// StarterConfig is the settings file the onboarding pull request adds:
// version 1 with every key at its default and a comment saying what it
// does.
func StarterConfig() string {
	b, err := templateFS.ReadFile("templates/kmend.yaml")
	if err != nil {
		panic(err) // embedded: cannot happen
	}
	return string(b)
}

// OnboardingInput is what kmend found in a repository when it was
// installed.
type OnboardingInput struct {
	// Repo is "owner/name"; Base is the default branch that was scanned and
	// Head the branch of the onboarding pull request.
	Repo string
	Base string
	Head string
	// Findings are every finding (suppressed ones left out).
	Findings []finding.Finding
	// Top are the findings to list, riskiest first (score.Compute's
	// order); when empty, the TopN most severe of Findings are listed.
	Top []finding.Finding
	// TopN is how many findings to list; 0 means 10.
	TopN int
	// Score is the posture score, 0–100, when known.
	Score *float64
	// Files and Objects scanned, and Controls checked.
	Files, Objects, Controls int
	// Catalog identifies the catalog (CatalogDigest), for the metadata.
	Catalog string
	// Config is the settings file the pull request adds; "" means
	// StarterConfig. ConfigPath is where; "" means StarterConfigPath.
	Config     string
	ConfigPath string
	// Options: BlobURL links file:line (to the scanned branch); Limit.
	Options Options
}

const defaultTopN = 10

type severityCount struct {
	Name                        string
	Total, Auto, Review, Manual int
}

func (c *severityCount) add(f finding.Finding) {
	c.Total++
	switch f.Fixability {
	case finding.FixAuto:
		c.Auto++
	case finding.FixReview:
		c.Review++
	default:
		c.Manual++
	}
}

// Onboarding renders the pull request kmend opens when it is installed:
// what it found (counts by severity and fixability, the top findings, the
// score), what happens next, and the settings file it adds, shown in full.
// The body ends with the metadata block (kind onboarding).
func Onboarding(o OnboardingInput) (Rendered, error) {
	opts := o.Options.withDefaults()
	cfg := cmp.Or(o.Config, StarterConfig())
	path := cmp.Or(o.ConfigPath, StarterConfigPath)

	bySev := map[finding.Severity]*severityCount{}
	var totals severityCount
	for _, f := range o.Findings {
		c := bySev[f.Severity]
		if c == nil {
			c = &severityCount{Name: f.Severity.String()}
			bySev[f.Severity] = c
		}
		c.add(f)
		totals.add(f)
	}
	var sevs []severityCount
	for s := finding.SeverityCritical; s >= finding.SeverityUnknown; s-- {
		if c := bySev[s]; c != nil {
			sevs = append(sevs, *c)
		}
	}
	for s, c := range bySev { // out-of-range severities, should any come in
		if s < finding.SeverityUnknown || s > finding.SeverityCritical {
			sevs = append(sevs, *c)
		}
	}

	top := o.Top
	if len(top) == 0 {
		top = slices.Clone(o.Findings)
		slices.SortStableFunc(top, func(a, b finding.Finding) int {
			return cmp.Or(cmp.Compare(b.Severity, a.Severity), finding.Compare(a, b))
		})
	}
	n := cmp.Or(o.TopN, defaultTopN)
	if n < 0 {
		n = 0
	}
	meta, err := metadataBlock(Metadata{Kind: KindOnboarding, Repo: o.Repo, Base: o.Base, Head: o.Head, Group: KindOnboarding, Catalog: o.Catalog})
	if err != nil {
		return Rendered{}, err
	}
	var ex executor
	title := cut(plain(ex.exec("onboarding.title", map[string]any{"ConfigPath": path, "Findings": len(o.Findings)})), maxTitle)
	d := &prData{opts: opts}
	tail := ex.exec("footer", nil) + "\n" + meta + "\n"
	// The list of top findings is shortened until the body fits.
	for n = min(n, len(top)); ; n /= 2 {
		vm := map[string]any{
			"Repo":           cell(o.Repo),
			"Base":           codeOrEmpty(o.Base),
			"ConfigPathCode": code(path),
			"ConfigPath":     path,
			"Findings":       len(o.Findings),
			"Files":          o.Files,
			"Objects":        o.Objects,
			"Controls":       o.Controls,
			"Severities":     sevs,
			"Totals":         totals,
			"Config":         fence("yaml", cfg),
			"Ranked":         len(o.Top) > 0,
		}
		if o.Score != nil && !math.IsNaN(*o.Score) {
			vm["Score"] = formatScore(*o.Score)
		}
		var rows []row
		for _, f := range top[:n] {
			rows = append(rows, d.rowOf(f, nil))
		}
		vm["Top"] = rows
		body := strings.TrimRight(ex.exec("onboarding", vm), "\n") + "\n\n" + tail
		if ex.err != nil {
			return Rendered{}, ex.err
		}
		if Length(body) <= opts.Limit {
			return Rendered{Title: title, Body: body}, nil
		}
		if n == 0 {
			return Rendered{}, fmt.Errorf("%w: the onboarding body is %d characters long even without findings listed", ErrTooLarge, Length(body))
		}
	}
}

// formatScore writes a score with at most one decimal: 71.7, 100.
func formatScore(s float64) string {
	return strings.TrimSuffix(strconv.FormatFloat(s, 'f', 1, 64), ".0")
}
