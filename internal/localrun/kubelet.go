package localrun

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
)

// The files NewKubeletCA writes.
const (
	caCertFile = "kubelet-ca.crt"
	caKeyFile  = "kubelet-ca.key"
)

// NewKubeletCA makes sure dir holds a CA for the runner's log server and returns the path of
// its certificate: the value of the kube-apiserver flag --kubelet-certificate-authority. An
// existing CA is kept, so the flag stays valid across restarts of the runner.
func NewKubeletCA(dir string) (caFile string, err error) {
	certPath, keyPath := filepath.Join(dir, caCertFile), filepath.Join(dir, caKeyFile)
	if _, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil {
		return certPath, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "localrun kubelet CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return "", err
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return "", err
	}
	return certPath, nil
}

// servingCert issues a certificate for 127.0.0.1 from the CA in dir.
func servingCert(dir string) (tls.Certificate, error) {
	ca, err := tls.LoadX509KeyPair(filepath.Join(dir, caCertFile), filepath.Join(dir, caKeyFile))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("failed to load the kubelet CA (see NewKubeletCA): %w", err)
	}
	caCert, err := x509.ParseCertificate(ca.Certificate[0])
	if err != nil {
		return tls.Certificate{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "localrun"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, ca.PrivateKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// stepLog is the log file of one step and where the step is.
type stepLog struct {
	path string

	mu      sync.Mutex
	started bool
	done    chan struct{}
}

func (l *stepLog) setStarted() {
	l.mu.Lock()
	l.started = true
	l.mu.Unlock()
}

func (l *stepLog) setDone() {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.done:
	default:
		close(l.done)
	}
}

func (l *stepLog) state() (started, done bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.done:
		done = true
	default:
	}
	return l.started, done
}

// logRegistry finds the log of a step container of a pod.
type logRegistry struct {
	mu   sync.Mutex
	logs map[string]*stepLog // namespace/pod/container
}

func newLogRegistry() *logRegistry { return &logRegistry{logs: map[string]*stepLog{}} }

func (g *logRegistry) add(ns, pod, container, path string) *stepLog {
	l := &stepLog{path: path, done: make(chan struct{})}
	g.mu.Lock()
	g.logs[ns+"/"+pod+"/"+container] = l
	g.mu.Unlock()
	return l
}

func (g *logRegistry) get(ns, pod, container string) *stepLog {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.logs[ns+"/"+pod+"/"+container]
}

// logServer answers the API server's GET /containerLogs/<namespace>/<pod>/<container> like
// a kubelet, from the step log files.
type logServer struct {
	srv *http.Server
	ln  net.Listener
}

func (s *logServer) close() error { return s.srv.Close() }

func (r *Runner) serving() bool { return r.opts.KubeletCADir != "" }

// ensureLogServer starts the log server and registers the Node, once.
func (r *Runner) ensureLogServer(ctx context.Context) error {
	if !r.serving() {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.server != nil {
		return nil
	}
	cert, err := servingCert(r.opts.KubeletCADir)
	if err != nil {
		return err
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		return fmt.Errorf("failed to listen for the API server's log requests: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{ns}/{pod}/{container}", r.serveLog)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	s := &logServer{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, ln: ln}
	go func() { _ = s.srv.Serve(ln) }()
	if err := r.registerNode(ctx, ln.Addr().(*net.TCPAddr).Port); err != nil {
		_ = s.close()
		return err
	}
	r.server = s
	return nil
}

// registerNode creates (or updates) the Node whose kubelet endpoint is the log server.
func (r *Runner) registerNode(ctx context.Context, port int) error {
	nodes := r.kube.CoreV1().Nodes()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name:   r.opts.NodeName,
		Labels: map[string]string{"kubernetes.io/hostname": r.opts.NodeName, labelManagedBy: "localrun"},
	}}
	if _, err := nodes.Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("failed to create node %q: %w", r.opts.NodeName, err)
	}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := nodes.Get(ctx, r.opts.NodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		now := metav1.Now()
		n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}}
		n.Status.DaemonEndpoints.KubeletEndpoint.Port = int32(port)
		n.Status.Conditions = []corev1.NodeCondition{{
			Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "LocalRunReady",
			Message: "localrun runs steps as host processes", LastHeartbeatTime: now, LastTransitionTime: now,
		}}
		_, err = nodes.UpdateStatus(ctx, n, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("failed to update the status of node %q: %w", r.opts.NodeName, err)
	}
	return nil
}

func (r *Runner) serveLog(w http.ResponseWriter, req *http.Request) {
	ns, pod, container := req.PathValue("ns"), req.PathValue("pod"), req.PathValue("container")
	follow := req.URL.Query().Get("follow") == "true"
	l := r.logs.get(ns, pod, container)
	if l == nil {
		// A run of an earlier runner process: its files are still where the pod says.
		p, err := r.kube.CoreV1().Pods(ns).Get(req.Context(), pod, metav1.GetOptions{})
		if err != nil || p.Annotations[AnnotationLogDir] == "" || strings.Contains(container, "/") {
			http.Error(w, fmt.Sprintf("container %q in pod %q is not known to localrun", container, pod), http.StatusNotFound)
			return
		}
		l = &stepLog{path: filepath.Join(p.Annotations[AnnotationLogDir], container+".log"), started: true, done: make(chan struct{})}
		close(l.done)
	}
	started, done := l.state()
	if !started && !done {
		http.Error(w, fmt.Sprintf("container %q in pod %q is waiting to start: PodInitializing", container, pod), http.StatusBadRequest)
		return
	}
	f, err := os.Open(l.path)
	if errors.Is(err, os.ErrNotExist) && done {
		w.Header().Set("Content-Type", "text/plain")
		return // never ran
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "text/plain")
	flusher, _ := w.(http.Flusher)
	for {
		if _, err := io.Copy(w, f); err != nil {
			return
		}
		if !follow {
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
		if _, done := l.state(); done {
			_, _ = io.Copy(w, f)
			return
		}
		select {
		case <-req.Context().Done():
			return
		case <-l.done:
		case <-time.After(200 * time.Millisecond):
		}
	}
}
