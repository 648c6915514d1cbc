package githubtest

import (
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Transport sends every request to the server, whatever its URL says, trusting the server's
// certificate. Give it to a client configured for Host: the client builds the real URLs
// (https://ghe.example.com/api/v3/...) and sends its token because the host matches.
func (s *Server) Transport() http.RoundTripper {
	return redirect{addr: s.TLS.Listener.Addr().String(), rt: s.TLS.Client().Transport}
}

type redirect struct {
	addr string
	rt   http.RoundTripper
}

func (r redirect) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host = "https", r.addr
	return r.rt.RoundTrip(out)
}

// ProcessEnv returns the environment that makes a separate process (the built modelsync-pr
// binary) reach this server through Go's standard mechanisms: GH_HOST names the Enterprise
// host, HTTPS_PROXY points at a loopback CONNECT proxy that tunnels to the server, and
// SSL_CERT_FILE (GIT_SSL_CAINFO for git) trusts the server's certificate.
func (s *Server) ProcessEnv(t testing.TB) []string {
	t.Helper()
	dir := t.TempDir()
	certFile := filepath.Join(dir, "ca.pem")
	cert := s.TLS.Certificate()
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(tunnel(s.TLS.Listener.Addr().String()))
	t.Cleanup(proxy.Close)
	return []string{"GH_HOST=" + Host, "HTTPS_PROXY=" + proxy.URL, "https_proxy=" + proxy.URL, "NO_PROXY=", "no_proxy=",
		"SSL_CERT_FILE=" + certFile, "GIT_SSL_CAINFO=" + certFile}
}

// tunnel is a CONNECT proxy that joins every tunnel to addr.
func tunnel(addr string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "only CONNECT", http.StatusMethodNotAllowed)
			return
		}
		upstream, err := net.Dial("tcp", addr)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			upstream.Close()
			return
		}
		_, _ = io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
		var wg sync.WaitGroup
		wg.Add(2)
		pipe := func(dst, src net.Conn) {
			defer wg.Done()
			_, _ = io.Copy(dst, src)
			if c, ok := dst.(interface{ CloseWrite() error }); ok {
				_ = c.CloseWrite()
			}
		}
		go pipe(upstream, conn)
		go pipe(conn, upstream)
		wg.Wait()
		conn.Close()
		upstream.Close()
	})
}
