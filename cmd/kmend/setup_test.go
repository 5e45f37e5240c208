package main

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"sigs.k8s.io/yaml"

	"github.com/kmend/kmend/internal/githubfake"
	"github.com/kmend/kmend/internal/gittest"
)

var jsonBlock = regexp.MustCompile("(?s)```json\n(.*?)```")

// The documented setup, end to end: register the App with the manifest
// flow (docs/github-app.md), run kmend serve with the configuration it
// wrote, push a repository with risky manifests: one pull request, whose
// RFC 6902 patches turn the base's object into the branch's; a second push
// with a new finding updates it instead of opening another.
func TestRegisterThenServe(t *testing.T) {
	fake := githubfake.New(t, githubfake.Options{})
	gs := gittest.New(t, gittest.Options{Root: fake.GitRoot(), Authorize: fake.TokenAllows})
	fake.SetCloneBaseURL(gs.URL())

	// 1. kmend app register, as the user runs it (GitHub Enterprise style
	// URL: the stand-in serves the API under /api/v3 too).
	cfgPath := filepath.Join(t.TempDir(), "kmend.yaml")
	r := startRegister(t, "--webhook-url", "https://kmend.example.com/webhook", "--config", cfgPath, "--github-url", fake.URL(), "--no-browser")
	if status, body := browse(t, r.localURL(t)); status != http.StatusOK {
		t.Fatalf("callback: %d\n%s", status, body)
	}
	if code := r.wait(t, 30*time.Second); code != exitOK {
		t.Fatalf("register exited %d\n%s\n%s", code, r.stdout.String(), r.stderr.String())
	}

	// 2. The user installs the App on a repository.
	storefront := fixtureFile(t, "apps/storefront/storefront.yaml")
	fake.AddRepo("acme", "platform", map[string][]byte{
		"apps/storefront/storefront.yaml": storefront,
		".github/kmend.yaml":              []byte("version: 1\ncontrols:\n  enable: [KM-002]\n"),
	})
	inst := fake.Install("acme", "platform")

	// 3. kmend serve with the configuration register wrote.
	srv := startServe(t, cfgPath)
	base, logs, exit := srv.base, &srv.logs, srv.exit

	// 4. A push: one pull request.
	deliver := func(id string) {
		t.Helper()
		resp, err := githubfake.Deliver(context.Background(), base+"/webhook", "push", id, pushPayload(t, inst), fake.App().WebhookSecret)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("delivery %s: %d", id, resp.StatusCode)
		}
	}
	deliver("setup-1")
	waitFor(t, logs, regexp.MustCompile(`pull request created`), exit)
	prs := fake.PRs("acme", "platform")
	if len(prs) != 1 {
		t.Fatalf("%d pull requests", len(prs))
	}
	pr := prs[0]

	// Its manual fallback applies: the RFC 6902 patches, in order, turn the
	// base's Deployment into the branch's.
	after, err := fake.File("acme", "platform", pr.Head, "apps/storefront/storefront.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := firstDocJSON(t, storefront)
	for _, m := range jsonBlock.FindAllStringSubmatch(pr.Body, -1) {
		p, err := jsonpatch.DecodePatch([]byte(m[1]))
		if err != nil {
			t.Fatalf("a JSON patch of the body does not decode: %v\n%s", err, m[1])
		}
		if got, err = p.Apply(got); err != nil {
			t.Fatalf("a JSON patch of the body does not apply: %v\n%s", err, m[1])
		}
	}
	if want := firstDocJSON(t, after); !jsonpatch.Equal(got, want) {
		t.Fatalf("the body's patches give\n%s\nthe branch has\n%s", got, want)
	}

	// 5. A new finding: the same pull request, updated.
	fake.Push("acme", "platform", "main", map[string][]byte{"apps/payments/deployment.yaml": fixtureFile(t, "apps/payments/deployment.yaml")}, "payments")
	deliver("setup-2")
	deadline := time.Now().Add(time.Minute)
	for {
		prs = fake.PRs("acme", "platform")
		if len(prs) != 1 {
			t.Fatalf("a second push opened another pull request: %d", len(prs))
		}
		if strings.Contains(prs[0].Body, "apps/payments/deployment.yaml") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the pull request was not updated:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if errs := fake.Errors(); len(errs) > 0 {
		t.Fatalf("requests GitHub would refuse: %v", errs)
	}
}

func fixtureFile(t *testing.T, p string) []byte {
	t.Helper()
	return []byte(read(t, filepath.Join("../../fixtures/demo-repo", p)))
}

// firstDocJSON is the first YAML document of a file as JSON.
func firstDocJSON(t *testing.T, data []byte) []byte {
	t.Helper()
	docs := strings.Split("\n"+string(data), "\n---")
	for _, d := range docs {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(d), &m); err != nil {
			t.Fatal(err)
		}
		if m["kind"] == "Deployment" {
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatal("no Deployment")
	return nil
}
