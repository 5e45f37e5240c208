package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// FuzzVerifySignature: a header verifies exactly when it is "sha256=" and
// the hex (either case) of the body's HMAC, and the check never panics.
func FuzzVerifySignature(f *testing.F) {
	body := []byte(`{"action":"opened"}`)
	f.Add(body, Sign(testSecret, body))
	f.Add(body, strings.ToUpper(Sign(testSecret, body)))
	f.Add(body, "sha256="+strings.ToUpper(Sign(testSecret, body)[7:]))
	f.Add(body, "sha1=0123")
	f.Add([]byte{}, "")
	f.Add([]byte("x"), "sha256=")
	f.Add([]byte("x"), "sha256=zz"+strings.Repeat("0", 62))
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		err := VerifySignature(testSecret, body, header)
		mac := hmac.New(sha256.New, testSecret)
		mac.Write(body)
		want := hex.EncodeToString(mac.Sum(nil))
		digest, ok := strings.CutPrefix(header, "sha256=")
		valid := ok && strings.EqualFold(digest, want)
		if (err == nil) != valid {
			t.Fatalf("VerifySignature(%q, %q) = %v, want valid=%v", body, header, err, valid)
		}
	})
}

// FuzzReceiver posts arbitrary headers and bodies: the receiver never
// panics, answers with one of its documented codes, and queues nothing
// that is not signed with the secret.
func FuzzReceiver(f *testing.F) {
	// A small payload: the fuzzer minimizes interesting inputs, and a
	// 25 KB fixture makes that slow. TestFixtures covers the real ones.
	pr := []byte(`{"action":"opened","number":2,"pull_request":{"number":2},"repository":{"full_name":"o/r"},"installation":{"id":1}}`)
	f.Add("pull_request", "id-1", Sign(testSecret, pr), "application/json", pr)
	f.Add("pull_request", "", Sign(testSecret, pr), "application/json", pr)
	f.Add("", "id-2", "", "", []byte("{}"))
	f.Add("ping", "id-3", Sign(testSecret, []byte("{}")), "application/json", []byte("{}"))
	f.Add("pull_request", "id-4", Sign(testSecret, []byte("payload=%7B%7D")), "application/x-www-form-urlencoded", []byte("payload=%7B%7D"))
	f.Add("pull_request", "id-5", Sign(testSecret, []byte("null")), "application/json; charset=utf-8", []byte("null"))
	f.Add("pull_request\x00", "id\n6", "sha256=", "text/plain;;", []byte("\xff"))

	q := &countingDispatcher{}
	rc, err := New(Options{Secret: testSecret, Queue: q, MaxBody: 1 << 20, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	allowed := map[int]bool{200: true, 202: true, 400: true, 401: true}
	f.Fuzz(func(t *testing.T, event, id, sig, contentType string, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
		for k, v := range map[string]string{HeaderEvent: event, HeaderDelivery: id, HeaderSignature256: sig, "Content-Type": contentType} {
			if v != "" {
				r.Header[http.CanonicalHeaderKey(k)] = []string{v}
			}
		}
		before := q.n.Load()
		w := httptest.NewRecorder()
		rc.ServeHTTP(w, r)
		if !allowed[w.Code] {
			// 503 cannot happen: the dispatcher always accepts.
			t.Fatalf("status %d (%s)", w.Code, w.Body)
		}
		signed := VerifySignature(testSecret, body, sig) == nil
		if !signed && w.Code != http.StatusUnauthorized && w.Code != http.StatusBadRequest {
			t.Fatalf("unsigned delivery answered %d", w.Code)
		}
		if !signed && q.n.Load() != before {
			t.Fatal("unsigned delivery queued")
		}
	})
}

// countingDispatcher handles pull_request and accepts every event.
type countingDispatcher struct{ n atomic.Int64 }

func (*countingDispatcher) Handles(eventType string) bool { return eventType == "pull_request" }

func (d *countingDispatcher) Dispatch(Event) error {
	d.n.Add(1)
	return nil
}
