package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// MetadataVersion is the version of the hidden metadata block written into
// pull request bodies. It changes only when a field is removed or changes
// meaning; fields may be added within a version.
const MetadataVersion = 1

// The metadata block is an HTML comment: invisible on GitHub, kept when
// people edit the text around it.
const (
	metadataOpen  = "<!-- kmend:metadata "
	metadataClose = " -->"
)

// Kinds of pull request kmend opens.
const (
	KindFix        = "fix"
	KindOnboarding = "onboarding"
)

// Metadata is what a pull request records about itself, so that any
// replica of the bot can recognise, update or close it without a database.
type Metadata struct {
	Version int `json:"version"`
	// Kind is KindFix or KindOnboarding.
	Kind  string `json:"kind"`
	Repo  string `json:"repo,omitempty"`
	Base  string `json:"base,omitempty"`
	Head  string `json:"head,omitempty"`
	Group string `json:"group,omitempty"`
	// Fingerprints are those of the findings the pull request fixes,
	// sorted and without duplicates (finding.Finding.Fingerprint).
	Fingerprints []string `json:"fingerprints"`
	// Controls are the IDs of the controls it fixes, sorted.
	Controls []string `json:"controls,omitempty"`
	// Catalog identifies the catalog used (CatalogDigest); Config the
	// repository configuration (a digest of .github/kmend.yaml). A pull
	// request closed without merging declines its findings for as long as
	// both are unchanged.
	Catalog string `json:"catalog,omitempty"`
	Config  string `json:"config,omitempty"`
}

// Errors of ParseMetadata.
var (
	// ErrNoMetadata: the body has no kmend metadata block (or its comment is
	// not closed).
	ErrNoMetadata = errors.New("no kmend metadata block")
	// ErrMetadataVersion: the block has a version this kmend does not
	// know; errors.As gives a *VersionError.
	ErrMetadataVersion = errors.New("unsupported kmend metadata version")
)

// VersionError is the error for a metadata block of an unknown version.
type VersionError struct{ Version int }

func (e *VersionError) Error() string {
	return fmt.Sprintf("kmend metadata version %d: this kmend reads version %d", e.Version, MetadataVersion)
}

// Is makes errors.Is(err, ErrMetadataVersion) hold.
func (e *VersionError) Is(target error) bool { return target == ErrMetadataVersion }

// metadataBlock encodes m as the hidden block. encoding/json escapes <, >
// and &, so no value can end the HTML comment early, and U+2028/U+2029, so
// the block is one line.
func metadataBlock(m Metadata) (string, error) {
	m.Version = MetadataVersion
	m.Fingerprints = sortedUnique(m.Fingerprints)
	m.Controls = sortedUnique(m.Controls)
	if m.Fingerprints == nil {
		m.Fingerprints = []string{}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	return metadataOpen + string(b) + metadataClose, nil
}

func sortedUnique(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

// ParseMetadata finds the metadata block in a pull request body and
// decodes it. Text people add before or after the block, and line-ending
// changes, do not matter. When the body holds several blocks, the last
// one counts: kmend writes its block at the very end, after every value
// that comes from a repository, so a block quoted in a patch cannot stand
// in for it. A block of another version is ErrMetadataVersion (as a
// *VersionError); no block is ErrNoMetadata; a block that does not decode
// is another error.
func ParseMetadata(body string) (Metadata, error) {
	i := strings.LastIndex(body, strings.TrimSpace(metadataOpen))
	if i < 0 {
		return Metadata{}, ErrNoMetadata
	}
	rest := body[i+len(strings.TrimSpace(metadataOpen)):]
	j := strings.Index(rest, "-->")
	if j < 0 {
		return Metadata{}, ErrNoMetadata
	}
	raw := bytes.TrimSpace([]byte(rest[:j]))
	var head struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return Metadata{}, fmt.Errorf("kmend metadata: %w", err)
	}
	if head.Version == nil {
		return Metadata{}, errors.New("kmend metadata: no version")
	}
	if *head.Version != MetadataVersion {
		return Metadata{}, &VersionError{Version: *head.Version}
	}
	var m Metadata
	if err := json.Unmarshal(raw, &m); err != nil {
		return Metadata{}, fmt.Errorf("kmend metadata: %w", err)
	}
	return m, nil
}
