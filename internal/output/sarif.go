package output

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/lazyre"
)

// SARIF constants.
const (
	// SARIFVersion is the SARIF version WriteSARIF writes.
	SARIFVersion = "2.1.0"
	// SARIFSchemaURI is the $schema WriteSARIF writes: the OASIS schema of
	// SARIF 2.1.0 (errata 01).
	SARIFSchemaURI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	// SARIFFingerprintKey is the partialFingerprints key of a result; its
	// value is Finding.Fingerprint().
	SARIFFingerprintKey = "kmend/v1"
	// SRCROOT is the uriBaseId of relative artifact URIs: the directory
	// kmend ran in, which GitHub code scanning takes as the repository root.
	SRCROOT = "%SRCROOT%"
	// DefaultInformationURI is tool.driver.informationUri when Tool does not
	// set one.
	DefaultInformationURI = "https://github.com/kmend/kmend"
)

// SARIFLevel is the SARIF level of a severity: error for critical and high,
// warning for medium (and unknown), note for low and info.
func SARIFLevel(s finding.Severity) string {
	switch s {
	case finding.SeverityCritical, finding.SeverityHigh:
		return "error"
	case finding.SeverityLow, finding.SeverityInfo:
		return "note"
	default:
		return "warning"
	}
}

// SecuritySeverity is the CVSS-like score GitHub code scanning reads from a
// rule's properties["security-severity"] to rank alerts: critical 9.5, high
// 8.0, medium 5.5, low 3.0, info 1.0 (unknown is treated as medium).
func SecuritySeverity(s finding.Severity) float64 {
	switch s {
	case finding.SeverityCritical:
		return 9.5
	case finding.SeverityHigh:
		return 8.0
	case finding.SeverityLow:
		return 3.0
	case finding.SeverityInfo:
		return 1.0
	default:
		return 5.5
	}
}

// WriteSARIF writes r as a SARIF 2.1.0 log with one run, in the subset
// GitHub code scanning reads (see docs/sarif.md). Suppressed findings are
// results with an inSource suppression; input errors are tool execution
// notifications, and make invocations[0].executionSuccessful false. Skipped
// inputs, and findings on objects that were not read from a file (which
// GitHub cannot place), are notifications too.
func WriteSARIF(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(buildSARIF(r))
}

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
	Properties  *sarifRunProps    `json:"properties,omitempty"`
}

type sarifRunProps struct {
	ReportSchema string  `json:"reportSchema"`
	Score        float64 `json:"score"`
	Files        int     `json:"files"`
	Objects      int     `json:"objects"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name            string      `json:"name"`
	InformationURI  string      `json:"informationUri"`
	Version         string      `json:"version,omitempty"`
	SemanticVersion string      `json:"semanticVersion,omitempty"`
	Rules           []sarifRule `json:"rules"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifMultiformat struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string           `json:"id"`
	Name                 string           `json:"name"`
	ShortDescription     sarifMultiformat `json:"shortDescription"`
	FullDescription      sarifMultiformat `json:"fullDescription"`
	Help                 sarifMultiformat `json:"help"`
	HelpURI              string           `json:"helpUri,omitempty"`
	DefaultConfiguration sarifConfig      `json:"defaultConfiguration"`
	Properties           sarifRuleProps   `json:"properties"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifRuleProps struct {
	Tags             []string `json:"tags"`
	SecuritySeverity string   `json:"security-severity"`
	Precision        string   `json:"precision"`
	Severity         string   `json:"severity"`
	Fixability       string   `json:"fixability,omitempty"`
	PSS              string   `json:"pss,omitempty"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Level               string             `json:"level"`
	Message             sarifMessage       `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints map[string]string  `json:"partialFingerprints"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          sarifResultProps   `json:"properties"`
}

type sarifResultProps struct {
	Severity      string `json:"severity"`
	Reason        string `json:"reason"`
	Observed      string `json:"observed,omitempty"`
	Object        string `json:"object"`
	Container     string `json:"container,omitempty"`
	ContainerType string `json:"containerType,omitempty"`
	Path          string `json:"path"`
	Fixability    string `json:"fixability"`
	ReviewNote    string `json:"reviewNote,omitempty"`
	Origin        string `json:"origin,omitempty"`
	ForeignID     string `json:"foreignID,omitempty"`
	Annotation    string `json:"annotation,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysicalLocation `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogicalLocation `json:"logicalLocations,omitempty"`
}

type sarifPhysicalLocation struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	Region           *sarifRegion          `json:"region,omitempty"`
}

type sarifArtifactLocation struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogicalLocation struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	Justification string `json:"justification,omitempty"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications"`
}

type sarifNotification struct {
	Level          string              `json:"level"`
	Message        sarifMessage        `json:"message"`
	Locations      []sarifLocation     `json:"locations,omitempty"`
	AssociatedRule *sarifDescriptorRef `json:"associatedRule,omitempty"`
}

type sarifDescriptorRef struct {
	ID    string `json:"id"`
	Index int    `json:"index"`
}

func buildSARIF(r *Report) *sarifLog {
	findings := append(sortedFindings(r.Findings), sortedFindings(r.Suppressed)...)
	finding.Sort(findings)

	rules, index := sarifRules(r.Rules, findings)
	results := make([]sarifResult, 0, len(findings))
	notes := []sarifNotification{}
	for _, f := range findings {
		if f.Position.File == "" {
			// GitHub code scanning rejects a whole log when one result
			// has no file; such findings (objects read from a cluster)
			// become notifications tied to their rule.
			notes = append(notes, sarifNotification{
				Level:          SARIFLevel(f.Severity),
				Message:        sarifMessage{Text: f.ControlID + ": " + resultMessage(f)},
				AssociatedRule: &sarifDescriptorRef{ID: f.ControlID, Index: index[f.ControlID]},
			})
			continue
		}
		results = append(results, sarifResultOf(f, index[f.ControlID]))
	}

	for _, e := range sortedCopy(r.Errors, compareErrors) {
		n := sarifNotification{Level: "error", Message: sarifMessage{Text: e.Message}}
		if e.File != "" {
			n.Message.Text = formatFileLine(e.File, e.Line) + ": " + e.Message
			n.Locations = []sarifLocation{{PhysicalLocation: physicalLocation(e.File, e.Line, false)}}
		}
		notes = append(notes, n)
	}
	for _, s := range sortedCopy(r.Skipped, func(a, b Skipped) int { return cmp.Compare(a.File, b.File) }) {
		notes = append(notes, sarifNotification{
			Level:     "note",
			Message:   sarifMessage{Text: "skipped " + s.File + ": " + s.Reason},
			Locations: []sarifLocation{{PhysicalLocation: physicalLocation(s.File, 0, false)}},
		})
	}

	tool := r.Tool
	driver := sarifDriver{
		Name:           cmp.Or(tool.Name, "kmend"),
		InformationURI: cmp.Or(tool.InformationURI, DefaultInformationURI),
		Version:        tool.Version,
		Rules:          rules,
	}
	if v := strings.TrimPrefix(tool.Version, "v"); semverRE.MatchString(v) {
		driver.SemanticVersion = v
	}
	return &sarifLog{
		Schema:  SARIFSchemaURI,
		Version: SARIFVersion,
		Runs: []sarifRun{{
			Tool:        sarifTool{Driver: driver},
			Invocations: []sarifInvocation{{ExecutionSuccessful: len(r.Errors) == 0, ToolExecutionNotifications: notes}},
			Results:     results,
			Properties: &sarifRunProps{
				ReportSchema: cmp.Or(r.Schema, SchemaVersion),
				Score:        r.Summary.Score,
				Files:        r.Summary.Files,
				Objects:      r.Summary.Objects,
			},
		}},
	}
}

// semverRE is the regular expression semver.org suggests for SemVer 2.0.
var semverRE = lazyre.New(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

// sarifRules returns the rules of the run, sorted by ID, and the index of
// each ID. Controls that have findings but are missing from rs get a rule
// made from their first finding, so every result has a rule.
func sarifRules(rs []Rule, findings []finding.Finding) ([]sarifRule, map[string]int) {
	byID := map[string]Rule{}
	for _, r := range rs {
		byID[r.ID] = r
	}
	for _, f := range findings {
		if _, ok := byID[f.ControlID]; !ok {
			byID[f.ControlID] = Rule{ID: f.ControlID, Title: f.Title, Severity: f.Severity, Fixability: f.Fixability}
		}
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]sarifRule, len(ids))
	index := make(map[string]int, len(ids))
	for i, id := range ids {
		out[i] = sarifRuleOf(byID[id])
		index[id] = i
	}
	return out, index
}

func sarifRuleOf(r Rule) sarifRule {
	title := cmp.Or(r.Title, r.ID)
	full := cmp.Or(unwrap(r.Rationale), title)
	tags := []string{"security", "kubernetes"}
	if r.Category != "" {
		tags = append(tags, r.Category)
	}
	if r.PSS != "" {
		tags = append(tags, "pss-"+r.PSS)
	}
	tags = dedupe(tags)
	helpURI := r.HelpURI
	if helpURI == "" {
		for _, ref := range r.References {
			if isAbsoluteURL(ref) {
				helpURI = ref
				break
			}
		}
	}
	return sarifRule{
		ID:                   r.ID,
		Name:                 cmp.Or(r.Name, r.ID),
		ShortDescription:     sarifMultiformat{Text: title},
		FullDescription:      sarifMultiformat{Text: full},
		Help:                 sarifMultiformat{Text: helpText(r), Markdown: helpMarkdown(r)},
		HelpURI:              helpURI,
		DefaultConfiguration: sarifConfig{Level: SARIFLevel(r.Severity)},
		Properties: sarifRuleProps{
			Tags:             tags,
			SecuritySeverity: strconv.FormatFloat(SecuritySeverity(r.Severity), 'f', 1, 64),
			Precision:        "very-high",
			Severity:         r.Severity.String(),
			Fixability:       string(r.Fixability),
			PSS:              r.PSS,
		},
	}
}

func sarifResultOf(f finding.Finding, ruleIndex int) sarifResult {
	res := sarifResult{
		RuleID:              f.ControlID,
		RuleIndex:           ruleIndex,
		Level:               SARIFLevel(f.Severity),
		Message:             sarifMessage{Text: resultMessage(f)},
		PartialFingerprints: map[string]string{SARIFFingerprintKey: f.Fingerprint()},
		Properties: sarifResultProps{
			Severity:      f.Severity.String(),
			Reason:        string(f.Reason),
			Observed:      f.Observed,
			Object:        f.Object.String(),
			Container:     f.Container,
			ContainerType: f.ContainerType,
			Path:          f.Path,
			Fixability:    string(f.Fixability),
			ReviewNote:    f.ReviewNote,
			Origin:        f.Origin,
			ForeignID:     f.ForeignID,
		},
	}
	res.Locations = []sarifLocation{{
		PhysicalLocation: physicalLocation(f.Position.File, f.Position.Line, true),
		LogicalLocations: logicalLocations(f),
	}}
	if s := f.Suppression; s != nil {
		res.Suppressions = []sarifSuppression{{
			Kind:          "inSource",
			Status:        "accepted",
			Justification: cmp.Or(s.Justification, "exempted by annotation "+s.Annotation),
		}}
		res.Properties.Annotation = s.Annotation
	}
	return res
}

// resultMessage is the finding's message followed by the reason, the object
// and the container, e.g. "… setuid binaries. (risky: true; Deployment/prod/web,
// container app)".
func resultMessage(f finding.Finding) string {
	msg := strings.TrimSpace(unwrap(f.Message))
	if msg == "" {
		msg = cmp.Or(f.Title, f.ControlID)
	}
	where := f.Object.String()
	if f.Container != "" {
		where += ", container " + f.Container
	}
	return fmt.Sprintf("%s (%s; %s)", msg, reasonText(f), where)
}

// reasonText says why in a few words: "unset", "risky: true", "inherited:
// true", "reported by polaris".
func reasonText(f finding.Finding) string {
	switch f.Reason {
	case finding.ReasonReported:
		if f.Origin != "" && f.Origin != "kmend" {
			s := "reported by " + f.Origin
			if f.ForeignID != "" {
				s += " " + f.ForeignID
			}
			return s
		}
	case finding.ReasonUnset:
		return "unset"
	}
	if f.Observed != "" {
		return string(f.Reason) + ": " + f.Observed
	}
	return cmp.Or(string(f.Reason), "failed")
}

func logicalLocations(f finding.Finding) []sarifLogicalLocation {
	return []sarifLogicalLocation{{Name: f.Object.Name, FullyQualifiedName: qualifiedName(f), Kind: "resource"}}
}

func qualifiedName(f finding.Finding) string {
	s := f.Object.String()
	if f.Object.Cluster != "" {
		s = f.Object.Cluster + ":" + s
	}
	if f.Container != "" {
		s += "/" + cmp.Or(f.ContainerType, "containers") + "/" + f.Container
	}
	return s
}

// physicalLocation locates a file (and a line when line > 0, or always when
// forceLine is set, using 1 for an unknown line).
func physicalLocation(file string, line int, forceLine bool) *sarifPhysicalLocation {
	uri, base := ArtifactURI(file)
	pl := &sarifPhysicalLocation{ArtifactLocation: sarifArtifactLocation{URI: uri, URIBaseID: base}}
	if line > 0 || forceLine {
		pl.Region = &sarifRegion{StartLine: max(line, 1)}
	}
	return pl
}

// ArtifactURI turns a file path as kmend read it into a SARIF artifact URI:
// a relative path becomes a relative URI with forward slashes, cleaned of
// "./", and uriBaseId %SRCROOT%; an absolute path becomes a file:// URI and
// no uriBaseId. Characters that are not allowed in a URI are escaped.
func ArtifactURI(file string) (uri, uriBaseID string) {
	slash := filepath.ToSlash(file)
	if vol := filepath.VolumeName(file); vol != "" || path.IsAbs(slash) {
		if !strings.HasPrefix(slash, "/") {
			slash = "/" + slash // C:/x → /C:/x
		}
		return (&url.URL{Scheme: "file", Path: slash}).String(), ""
	}
	clean := path.Clean(slash)
	u := (&url.URL{Path: clean}).String()
	// url.URL adds "./" before a first segment holding a colon; keep it
	// (it is what makes the URI relative) but nothing else leads with "./".
	return u, SRCROOT
}

func isAbsoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && u.Host != ""
}

// helpText is a rule's plain-text help: what, why, how to fix, caveats,
// references.
func helpText(r Rule) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s)\n", cmp.Or(r.Title, r.ID), ruleFacts(r))
	if s := unwrap(r.Rationale); s != "" {
		fmt.Fprintf(&b, "\nWhy: %s\n", s)
	}
	fmt.Fprintf(&b, "\nHow to fix: %s\n", fixText(r, false))
	if r.Fix != "" {
		fmt.Fprintf(&b, "\nSuggested change:\n%s", indentBlock(r.Fix, "    "))
	}
	if len(r.Caveats) > 0 {
		b.WriteString("\nCaveats:\n")
		for _, c := range r.Caveats {
			fmt.Fprintf(&b, "- %s\n", unwrap(c))
		}
	}
	if len(r.References) > 0 {
		b.WriteString("\nReferences:\n")
		for _, ref := range r.References {
			fmt.Fprintf(&b, "- %s\n", ref)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// helpMarkdown is helpText in Markdown, which GitHub shows on an alert.
func helpMarkdown(r Rule) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** (%s)\n", mdEscape(cmp.Or(r.Title, r.ID)), ruleFacts(r))
	if s := unwrap(r.Rationale); s != "" {
		fmt.Fprintf(&b, "\n#### Why\n\n%s\n", s)
	}
	fmt.Fprintf(&b, "\n#### How to fix\n\n%s\n", fixText(r, true))
	if r.Fix != "" {
		fmt.Fprintf(&b, "\n```yaml\n%s\n```\n", strings.TrimRight(r.Fix, "\n"))
	}
	if len(r.Caveats) > 0 {
		b.WriteString("\n#### Caveats\n\n")
		for _, c := range r.Caveats {
			fmt.Fprintf(&b, "- %s\n", unwrap(c))
		}
	}
	if len(r.References) > 0 {
		b.WriteString("\n#### References\n\n")
		for _, ref := range r.References {
			if isAbsoluteURL(ref) {
				fmt.Fprintf(&b, "- <%s>\n", ref)
			} else {
				fmt.Fprintf(&b, "- %s\n", ref)
			}
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func ruleFacts(r Rule) string {
	s := r.ID + ", severity " + r.Severity.String()
	if r.PSS != "" {
		s += ", Pod Security Standards " + r.PSS
	}
	return s
}

func fixText(r Rule, md bool) string {
	code := func(s string) string {
		if md {
			return "`" + s + "`"
		}
		return s
	}
	switch r.Fixability {
	case finding.FixAuto:
		return "kmend fixes this unattended: run " + code("kmend fix PATH") +
			" (or " + code("--dry-run") + " to see the diff first). Only the failing field changes."
	case finding.FixReview:
		return "kmend can write this fix, but a person must confirm it (a value to choose, or a change that may break the app): " +
			"review the diff of " + code("kmend fix PATH --fixability auto,review --dry-run") + ", then apply it without " + code("--dry-run") + "."
	default:
		return "kmend never applies this fix itself: " + code("kmend explain "+r.ID) +
			" shows the patch to apply by hand, and " + code("kmend scan PATH -o patch") + " prints it for each finding."
	}
}

var mdSpecial = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `_`, `\_`, "`", "\\`", `[`, `\[`, `]`, `\]`, `<`, `&lt;`, `>`, `&gt;`)

func mdEscape(s string) string { return mdSpecial.Replace(s) }

// unwrap joins the lines of a folded YAML text into one paragraph per blank
// line-separated block.
func unwrap(s string) string {
	paras := strings.Split(strings.TrimSpace(s), "\n\n")
	for i, p := range paras {
		paras[i] = strings.Join(strings.Fields(p), " ")
	}
	return strings.Join(paras, "\n\n")
}

func indentBlock(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	out := s[:0]
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func formatFileLine(file string, line int) string {
	if line > 0 {
		return file + ":" + strconv.Itoa(line)
	}
	return file
}
