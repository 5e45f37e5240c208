package render

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func sampleMetadata() Metadata {
	return Metadata{
		Kind: KindFix, Repo: "acme/shop", Base: "main", Head: "kmend/harden-web",
		Group:        "directory/apps/web",
		Fingerprints: []string{"ffff000011112222", "0123456789abcdef", "0123456789abcdef"},
		Controls:     []string{"KM-007", "KM-002"},
		Catalog:      "sha256:0123456789ab",
	}
}

func TestMetadataRoundTrip(t *testing.T) {
	block, err := metadataBlock(sampleMetadata())
	if err != nil {
		t.Fatal(err)
	}
	want := `<!-- kmend:metadata {"version":1,"kind":"fix","repo":"acme/shop","base":"main","head":"kmend/harden-web",` +
		`"group":"directory/apps/web","fingerprints":["0123456789abcdef","ffff000011112222"],"controls":["KM-002","KM-007"],` +
		`"catalog":"sha256:0123456789ab"} -->`
	if block != want {
		t.Fatalf("block =\n%s\nwant\n%s", block, want)
	}
	for name, body := range map[string]string{
		"alone":         block,
		"edited around": "People wrote this.\n\n" + block + "\n\nAnd this, after.\n",
		"CRLF":          strings.ReplaceAll("text\n\n"+block+"\n", "\n", "\r\n"),
		"spaced":        strings.Replace(strings.Replace(block, "{", "\n  {", 1), " -->", "\n\n-->", 1),
		"quoted first":  "```\n<!-- kmend:metadata {\"version\":1,\"kind\":\"fix\",\"fingerprints\":[\"forged\"]} -->\n```\n" + block,
	} {
		m, err := ParseMetadata(body)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !slices.Equal(m.Fingerprints, []string{"0123456789abcdef", "ffff000011112222"}) || m.Group != "directory/apps/web" || m.Version != 1 {
			t.Errorf("%s: %+v", name, m)
		}
	}
}

func TestMetadataErrors(t *testing.T) {
	var ve *VersionError
	_, err := ParseMetadata(`<!-- kmend:metadata {"version":2,"fingerprints":[]} -->`)
	if !errors.Is(err, ErrMetadataVersion) || !errors.As(err, &ve) || ve.Version != 2 {
		t.Errorf("version 2: %v", err)
	}
	for name, body := range map[string]string{
		"none":        "a pull request a person wrote",
		"not closed":  `<!-- kmend:metadata {"version":1}`,
		"empty":       "",
		"only prefix": "<!-- kmend:metadata",
	} {
		if _, err := ParseMetadata(body); !errors.Is(err, ErrNoMetadata) {
			t.Errorf("%s: err = %v, want ErrNoMetadata", name, err)
		}
	}
	for name, body := range map[string]string{
		"no version": `<!-- kmend:metadata {"fingerprints":[]} -->`,
		"bad json":   `<!-- kmend:metadata {"version":1, -->`,
		"wrong type": `<!-- kmend:metadata {"version":1,"fingerprints":"x"} -->`,
		"not object": `<!-- kmend:metadata [1] -->`,
		"deep":       "<!-- kmend:metadata {\"version\":1,\"group\":" + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "} -->",
		"mangled":    "<!-- kmend:metadata {\"version\":1} -->\n\n<!-- kmend:metadata edited by hand -->",
	} {
		if _, err := ParseMetadata(body); err == nil || errors.Is(err, ErrNoMetadata) {
			t.Errorf("%s: err = %v, want a decoding error", name, err)
		}
	}
}

func TestMetadataHostileValues(t *testing.T) {
	m := sampleMetadata()
	m.Group = `x --> <script>alert(1)</script> <!-- kmend:metadata {"version":9} --> ` + "\u2028\n"
	block, err := metadataBlock(m)
	if err != nil {
		t.Fatal(err)
	}
	inner := strings.TrimSuffix(strings.TrimPrefix(block, metadataOpen), metadataClose)
	if strings.Count(block, "-->") != 1 || strings.ContainsAny(inner, "<>&\n\r\u2028\u2029") {
		t.Fatalf("a value breaks out of the comment: %s", block)
	}
	got, err := ParseMetadata("intro\n" + block + "\n")
	if err != nil || got.Group != m.Group {
		t.Fatalf("got %+v, %v", got, err)
	}
}

// normalized is m as metadataBlock writes it.
func normalized(m Metadata) Metadata {
	m.Version = MetadataVersion
	m.Fingerprints = sortedUnique(m.Fingerprints)
	if m.Fingerprints == nil {
		m.Fingerprints = []string{}
	}
	m.Controls = sortedUnique(m.Controls)
	return m
}

func FuzzParseMetadata(f *testing.F) {
	block, _ := metadataBlock(sampleMetadata())
	f.Add(block)
	f.Add("text\r\n" + block + "\r\nmore")
	f.Add(`<!-- kmend:metadata {"version":1,"fingerprints":null} -->`)
	f.Add(`<!-- kmend:metadata {"version":1e400} -->`)
	f.Add(`<!-- kmend:metadata {"version":-1} -->`)
	f.Add(`<!-- kmend:metadata {"version":1,"fingerprints":["\ud800"]} -- > -->`)
	f.Add("<!-- kmend:metadata [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[ -->")
	f.Add("<!-- kmend:metadata <!-- kmend:metadata {\"version\":1} -->")
	f.Fuzz(func(t *testing.T, body string) {
		m, err := ParseMetadata(body)
		if err != nil {
			return
		}
		if m.Version != MetadataVersion {
			t.Fatalf("accepted version %d", m.Version)
		}
		// What was read writes back and reads back the same.
		block, err := metadataBlock(m)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseMetadata(body + "\n" + block)
		if err != nil {
			t.Fatalf("re-reading %s: %v", block, err)
		}
		if !reflect.DeepEqual(again, normalized(m)) {
			t.Fatalf("round trip:\n%+v\n%+v", again, normalized(m))
		}
	})
}
