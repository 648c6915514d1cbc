package githubtest

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// authenticate returns "token" for a known token, "bearer" for a valid App JWT, "" otherwise.
func (s *Server) authenticate(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(h, "token "); ok && s.tokens[tok] {
		return "token"
	}
	if jwt, ok := strings.CutPrefix(h, "Bearer "); ok && s.appKey != nil && s.validJWT(jwt) {
		return "bearer"
	}
	return ""
}

// validJWT checks an RS256 JWT's signature against the App key, its issuer and its lifetime
// (GitHub refuses an expiry more than ten minutes ahead).
func (s *Server) validJWT(jwt string) bool {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return false
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(s.appKey, crypto.SHA256, sum[:], sig) != nil {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return false
	}
	var claims struct {
		Iss      json.Number `json:"iss"`
		Iat, Exp int64
	}
	if json.Unmarshal(raw, &claims) != nil {
		return false
	}
	now := time.Now().Unix()
	return claims.Iss.String() == itoa(s.appID) && claims.Iat <= now && claims.Exp > now && claims.Exp-now <= 600
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
