package githubfake

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

type authKind int

const (
	authToken authKind = iota // an installation or user token
	authJWT                   // the App's JWT
	authNone                  // nothing (app manifest conversion)
	authAny                   // optional: anything valid, or nothing (rate_limit)
)

// identity is who makes a call.
type identity struct {
	app   bool
	tok   *token
	login string // the actor: "<slug>[bot]" for installations
}

func (w *identity) rateSubject() string {
	switch {
	case w == nil:
		return "anonymous access"
	case w.app:
		return "the App"
	case w.tok != nil && w.tok.inst != nil:
		return fmt.Sprintf("installation ID %d", w.tok.inst.id)
	default:
		return "user " + w.login
	}
}

// authenticate checks the Authorization header as the route requires and
// answers 401 when it fails. Called with f.mu held.
func (f *Fake) authenticate(c *call, def routeDef) bool {
	h := c.r.Header.Get("Authorization")
	scheme, cred, _ := strings.Cut(h, " ")
	scheme = strings.ToLower(scheme)
	cred = strings.TrimSpace(cred)
	switch def.auth {
	case authNone:
		return true
	case authJWT:
		if h == "" {
			c.fail(http.StatusUnauthorized, "A JSON web token could not be decoded")
			return false
		}
		if scheme != "bearer" {
			c.fail(http.StatusUnauthorized, "A JSON web token could not be decoded")
			return false
		}
		if err := f.verifyJWT(cred); err != nil {
			c.fail(http.StatusUnauthorized, err.Error())
			return false
		}
		c.who = &identity{app: true, login: f.st.botLogin()}
		return true
	}
	if h == "" {
		if def.auth == authAny {
			return true
		}
		c.fail(http.StatusUnauthorized, "Requires authentication")
		return false
	}
	if scheme != "token" && scheme != "bearer" {
		c.fail(http.StatusUnauthorized, "Bad credentials")
		return false
	}
	if def.auth == authAny && strings.Count(cred, ".") == 2 {
		if err := f.verifyJWT(cred); err != nil {
			c.fail(http.StatusUnauthorized, err.Error())
			return false
		}
		c.who = &identity{app: true, login: f.st.botLogin()}
		return true
	}
	tok := f.st.tokens[cred]
	if tok == nil || !f.now().Before(tok.expires) {
		c.fail(http.StatusUnauthorized, "Bad credentials")
		return false
	}
	c.who = &identity{tok: tok, login: tok.user}
	if tok.inst != nil {
		c.who.login = f.st.botLogin()
	}
	return true
}

// authorize finds the repository of a /repos/{owner}/{repo} route and checks
// that the caller may reach it (404 otherwise, as GitHub hides what a token
// cannot see) with the permission the route needs (403). Called with f.mu
// held.
func (f *Fake) authorize(c *call, def routeDef) bool {
	owner, ok := c.params["owner"]
	if !ok {
		return true
	}
	repo := f.st.repo(owner, c.params["repo"])
	if repo == nil {
		c.fail(http.StatusNotFound, "Not Found")
		return false
	}
	c.repo = repo
	w := c.who
	if w == nil || w.app {
		if def.auth == authJWT {
			return true
		}
		c.fail(http.StatusNotFound, "Not Found")
		return false
	}
	tok := w.tok
	if tok.inst == nil {
		return true // user tokens reach everything
	}
	if !tok.inst.covers(repo) || (tok.repos != nil && !tok.repos[repo.key()]) {
		c.fail(http.StatusNotFound, "Not Found")
		return false
	}
	if def.perm == "" {
		return true
	}
	for _, p := range strings.Split(def.perm, "|") {
		level := tok.perms[p]
		if level == "write" || (level == "read" && !def.write) {
			return true
		}
	}
	c.failDoc(http.StatusForbidden, "Resource not accessible by integration", docsURL)
	return false
}

// verifyJWT checks an App JWT as GitHub does: RS256, signed by the App's
// key, iss the App's ID (or client ID), iat not in the future, exp in the
// future and at most ten minutes after iat.
func (f *Fake) verifyJWT(tok string) error {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return errors.New("A JSON web token could not be decoded")
	}
	var header struct {
		Alg string `json:"alg"`
		Typ string `json:"typ"`
	}
	if err := decodeSegment(parts[0], &header); err != nil {
		return errors.New("A JSON web token could not be decoded")
	}
	if header.Alg != "RS256" {
		return errors.New("A JSON web token could not be decoded")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return errors.New("A JSON web token could not be decoded")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(&f.st.app.key.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		return errors.New("A JSON web token could not be decoded")
	}
	var claims struct {
		Iss json.RawMessage `json:"iss"`
		Iat *float64        `json:"iat"`
		Exp *float64        `json:"exp"`
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return errors.New("A JSON web token could not be decoded")
	}
	var iss string
	if err := json.Unmarshal(claims.Iss, &iss); err != nil {
		var n int64
		if err := json.Unmarshal(claims.Iss, &n); err != nil {
			return errors.New("'Issuer' claim ('iss') must be an Integer")
		}
		iss = strconv.FormatInt(n, 10)
	}
	if iss != strconv.FormatInt(f.st.app.id, 10) && iss != f.st.app.clientID {
		return errors.New("Integration not found")
	}
	if claims.Iat == nil || claims.Exp == nil {
		return errors.New("Missing 'issued at' or 'expiration time' claim ('iat' or 'exp')")
	}
	now := f.now()
	iat := time.Unix(int64(*claims.Iat), 0)
	exp := time.Unix(int64(*claims.Exp), 0)
	if iat.After(now.Add(time.Minute)) {
		return errors.New("'Issued at' claim ('iat') must be an Integer representing a time in the past")
	}
	if !exp.After(now) {
		return errors.New("'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires")
	}
	if exp.Sub(iat) > 10*time.Minute+time.Second {
		return errors.New("'Expiration time' claim ('exp') is too far in the future")
	}
	return nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// newToken makes a token value shaped like GitHub's (ghs_ + 36 characters).
func newToken(prefix string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 36)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return prefix + string(b)
}

// TokenAllows says whether an installation or user token may read (push
// false) or push (push true) owner/repo. Pass it to internal/gittest as its
// Authorize function so the git server checks tokens as GitHub does.
func (f *Fake) TokenAllows(tok, owner, repo string, push bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.st.tokens[tok]
	if t == nil || !f.now().Before(t.expires) {
		return false
	}
	r := f.st.repo(owner, repo)
	if r == nil {
		return false
	}
	if t.inst == nil {
		return true
	}
	if !t.inst.covers(r) || (t.repos != nil && !t.repos[r.key()]) {
		return false
	}
	level := t.perms["contents"]
	return level == "write" || (level == "read" && !push)
}
