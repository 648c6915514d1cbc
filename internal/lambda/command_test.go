package lambda

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modelsync/modelsync/internal/testutil"
)

// syncBuffer is a bytes.Buffer safe for the server's concurrent log writes.
type syncBuffer = testutil.SyncBuffer

// TestCommand runs the modelsync-lambdas command with flags (a fetched repo), asks both
// routes over TCP, and stops it as SIGTERM would: it must shut down without error.
func TestCommand(t *testing.T) {
	reg, regURL := openRegistry(t)
	publishModel(t, reg, "m1", time.Now())
	remote := newRemote(t, "")
	remote.commit(map[string]string{"deploy/configmap.yaml": configMap("m0")})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()

	var logs syncBuffer
	cmd := NewCommand(&logs)
	cmd.SetArgs([]string{"--listen", addr, "--registry", regURL, "--repo-url", remote.bare, "--package-path", "deploy",
		"--configmap-name", "label-bot-config", "--work-dir", t.TempDir(), "--log-level", "debug"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	url := "http://" + addr
	eventually(t, "the command to be ready", func() (bool, string) {
		resp, err := http.Get(url + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	expectAnswer(t, get(t, url+"/needsSync"), true, map[string]string{ParamName: "m1"})
	expectAnswer(t, get(t, url+"/needsTrain"), false, nil)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("command returned %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("command did not stop")
	}
	for _, want := range []string{`"msg":"serving"`, `"msg":"cloned"`, `"msg":"answered","route":"/needsSync","needsSync":true`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %s:\n%s", want, logs.String())
		}
	}
}

func TestCommandErrors(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--registry", "file:///r", "--log-level", "loud"}, "--log-level"},
		{[]string{"--registry", "file:///r", "--listen", "256.0.0.1:1"}, "failed to listen"},
		{[]string{"--config", "testdata/missing.yaml"}, "failed to read config"},
	} {
		cmd := NewCommand(&bytes.Buffer{})
		cmd.SetArgs(tt.args)
		if err := cmd.ExecuteContext(context.Background()); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%v: error = %v, want one containing %q", tt.args, err, tt.wantErr)
		}
	}
}
