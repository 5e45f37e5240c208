package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kmend/kmend/internal/githubfake"
	"github.com/kmend/kmend/internal/gittest"
)

// fix --open-pr: the live objects of a snapshot are traced through their
// Argo CD Application to a repository on GitHub, which kmend clones with
// the App's installation and fixes in one pull request; run again, it
// changes nothing.
func TestFixOpenPR(t *testing.T) {
	fake := githubfake.New(t, githubfake.Options{})
	gs := gittest.New(t, gittest.Options{Root: fake.GitRoot(), Authorize: fake.TokenAllows})
	fake.SetCloneBaseURL(gs.URL())
	fake.AddRepo("acme", "platform", map[string][]byte{
		"apps/storefront/storefront.yaml": fixtureFile(t, "apps/storefront/storefront.yaml"),
		"apps/payments/deployment.yaml":   fixtureFile(t, "apps/payments/deployment.yaml"),
	})
	fake.Install("acme", "platform")

	dir := t.TempDir()
	write(t, dir, "app.pem", string(fake.App().PrivateKeyPEM))
	cfg := write(t, dir, "kmend.yaml", fmt.Sprintf("version: 1\nappID: %d\nprivateKeyPath: app.pem\nwebhookSecret: %q\ngithubURL: %s\n",
		fake.App().ID, fake.App().WebhookSecret, fake.URL()))
	snap := strings.Replace(read(t, snapshot), "https://github.com/example-shop/platform.git", fake.URL()+"/acme/platform.git", 1)
	live := write(t, dir, "live.yaml", snap)

	code, out, errs := kmend(t, "", "fix", live, "--open-pr", "--config", cfg, "--controls", "KM-002")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "created      acme/platform: pull request #1 (2 findings fixed") {
		t.Fatalf("output:\n%s", out)
	}
	prs := fake.PRs("acme", "platform")
	if len(prs) != 1 || !strings.HasPrefix(prs[0].Head, "kmend/snapshot-") {
		t.Fatalf("pull requests: %+v", prs)
	}
	// Only the live object's findings: payments is in the repository but
	// not in the snapshot.
	if !strings.Contains(prs[0].Body, "apps/storefront/storefront.yaml") || strings.Contains(prs[0].Body, "apps/payments") {
		t.Fatalf("body:\n%s", prs[0].Body)
	}
	code, out, _ = kmend(t, "", "fix", live, "--open-pr", "--config", cfg, "--controls", "KM-002")
	if code != exitOK || !strings.Contains(out, "unchanged    acme/platform: pull request #1") {
		t.Fatalf("second run: exit %d\n%s", code, out)
	}
	if len(fake.PRs("acme", "platform")) != 1 {
		t.Fatal("a second pull request")
	}
	// A repository the App is not installed on is named, not guessed.
	other := write(t, dir, "other.yaml", strings.Replace(snap, "/acme/platform.git", "/acme/elsewhere.git", 1))
	code, out, _ = kmend(t, "", "fix", other, "--open-pr", "--config", cfg, "--controls", "KM-002")
	if code != exitFindings || !strings.Contains(out, "not installed acme/elsewhere") {
		t.Fatalf("uninstalled repository: exit %d\n%s", code, out)
	}
}
