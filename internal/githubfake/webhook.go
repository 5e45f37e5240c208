package githubfake

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
)

// HookID is the X-GitHub-Hook-ID Deliver sends (an App's webhook).
const HookID = "424242"

// Sign returns the X-Hub-Signature-256 value GitHub sends with body:
// "sha256=" and the hex HMAC-SHA256 of body with secret.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Deliver posts a webhook to url as GitHub does: the JSON body, the event
// name, the delivery ID, the hook ID, GitHub's user agent and, when secret
// is not empty, the signature. The caller closes the response body.
func Deliver(ctx context.Context, url, event, deliveryID string, body []byte, secret string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/044aadd")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", deliveryID)
	req.Header.Set("X-GitHub-Hook-ID", HookID)
	req.Header.Set("X-GitHub-Hook-Installation-Target-Type", "integration")
	if secret != "" {
		req.Header.Set("X-Hub-Signature-256", Sign([]byte(secret), body))
	}
	return http.DefaultClient.Do(req)
}

// Deliver posts a webhook signed with the App's webhook secret.
func (f *Fake) Deliver(ctx context.Context, url, event, deliveryID string, body []byte) (*http.Response, error) {
	return Deliver(ctx, url, event, deliveryID, body, f.App().WebhookSecret)
}

// Payload reads a real webhook payload from fixtures/github/webhooks, by
// name without .json ("pull_request.opened", "issue_comment.created").
func Payload(t TB, name string) []byte {
	t.Helper()
	dir, err := findModuleFile(WebhookDir)
	if err != nil {
		t.Fatalf("githubfake: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, name+".json"))
	if err != nil {
		t.Fatalf("githubfake: payload %s: %v", name, err)
	}
	return b
}
