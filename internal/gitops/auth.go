package gitops

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// TokenEnv lists the variables a token is read from, in order.
var TokenEnv = []string{"GH_TOKEN", "GITHUB_TOKEN", "GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN"}

// App identifies a GitHub App that acts on the repository.
type App struct {
	// ID is the App's id (or client id).
	ID string
	// PrivateKey is the App's PEM private key (PKCS#1 as GitHub issues it, or PKCS#8).
	PrivateKey []byte
	// InstallationID is the installation on the repository's owner; 0 means look it up.
	InstallationID int64
}

// Credentials are how the tool authenticates to GitHub: a token, or an App.
type Credentials struct {
	Token string
	App   *App
}

// Token returns the token to use for repo: the configured one, or an installation token of
// the App. The returned token is also registered with o.Redact.
func (c Credentials) Resolve(ctx context.Context, o ClientOptions, repo Repo, now time.Time) (string, error) {
	if c.App == nil {
		if c.Token == "" {
			return "", errors.New("no GitHub credentials: set GH_TOKEN (or GITHUB_TOKEN), or a GitHub App id and private key")
		}
		o.Redact.Add(c.Token)
		return c.Token, nil
	}
	jwt, err := c.App.jwt(now)
	if err != nil {
		return "", err
	}
	o.Redact.Add(jwt)
	o.Token = jwt
	client, err := NewClient(o, map[string]string{"Authorization": "Bearer " + jwt})
	if err != nil {
		return "", err
	}
	id := c.App.InstallationID
	if id == 0 {
		if repo.Owner == "" || repo.Name == "" {
			return "", errors.New("the repository (--repo) is required to find the GitHub App's installation")
		}
		var inst struct {
			ID int64 `json:"id"`
		}
		path := "repos/" + url.PathEscape(repo.Owner) + "/" + url.PathEscape(repo.Name) + "/installation"
		if err := client.do(ctx, "find the GitHub App installation on "+repo.String(), http.MethodGet, path, nil, &inst); err != nil {
			return "", err
		}
		id = inst.ID
	}
	var tok struct {
		Token string `json:"token"`
	}
	path := fmt.Sprintf("app/installations/%d/access_tokens", id)
	if err := client.do(ctx, fmt.Sprintf("get a token for GitHub App installation %d", id), http.MethodPost, path, nil, &tok); err != nil {
		return "", err
	}
	if tok.Token == "" {
		return "", fmt.Errorf("failed to get a token for GitHub App installation %d: the answer holds no token", id)
	}
	o.Redact.Add(tok.Token)
	return tok.Token, nil
}

// jwt signs the short-lived RS256 token that authenticates as the App itself.
func (a *App) jwt(now time.Time) (string, error) {
	if a.ID == "" {
		return "", errors.New("the GitHub App id (--app-id) is required with a private key")
	}
	key, err := ParsePrivateKey(a.PrivateKey)
	if err != nil {
		return "", err
	}
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	var iss any = a.ID
	if n, err := strconv.ParseInt(a.ID, 10, 64); err == nil {
		iss = n
	}
	// Backdated against clock skew; GitHub accepts at most ten minutes.
	claims, err := json.Marshal(map[string]any{"iat": now.Add(-time.Minute).Unix(), "exp": now.Add(9 * time.Minute).Unix(), "iss": iss})
	if err != nil {
		return "", err
	}
	signing := header + "." + base64.RawURLEncoding.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("failed to sign the GitHub App token: %w", err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// ParsePrivateKey reads an RSA private key in PEM (PKCS#1 or PKCS#8). Its errors never quote
// the key.
func ParsePrivateKey(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("failed to parse the GitHub App private key: no PEM block found")
	}
	switch strings.TrimSpace(block.Type) {
	case "RSA PRIVATE KEY":
		key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("failed to parse the GitHub App private key: invalid PKCS#1 RSA key")
		}
		return key, nil
	case "PRIVATE KEY":
		key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("failed to parse the GitHub App private key: invalid PKCS#8 key")
		}
		rsaKey, ok := key.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("failed to parse the GitHub App private key: GitHub Apps use RSA keys")
		}
		return rsaKey, nil
	default:
		return nil, fmt.Errorf("failed to parse the GitHub App private key: unexpected PEM block %q", block.Type)
	}
}
