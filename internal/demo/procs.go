package demo

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a long-running child process of the demo (the lambda server, the controller). Its
// output goes to <Dir>/logs/<name>.log.
type proc struct {
	name string
	log  string
	cmd  *exec.Cmd

	done chan struct{}
	mu   sync.Mutex
	err  error
}

func (d *demo) start(name string, args ...string) (*proc, error) {
	logPath := filepath.Join(d.dir, "logs", name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(d.lookPath(args[0]), args[1:]...)
	cmd.Env = d.env
	cmd.Dir = d.dir
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("failed to start %s: %w", name, err)
	}
	p := &proc{name: name, log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		_ = f.Close()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.done)
	}()
	d.procs = append(d.procs, p)
	return p, nil
}

// exited returns an error when the process has ended (it never should while the demo runs).
func (p *proc) exited() error {
	select {
	case <-p.done:
		p.mu.Lock()
		defer p.mu.Unlock()
		return fmt.Errorf("%s exited (%v); see %s", p.name, p.err, p.log)
	default:
		return nil
	}
}

// stop ends the process group: SIGTERM, then SIGKILL after a grace period.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// run runs a short command (git, kpt, the plugin) in dir with the demo's environment and
// returns its standard output; a failure's error holds its standard error.
func (d *demo) run(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, d.lookPath(args[0]), args[1:]...)
	cmd.Dir = dir
	cmd.Env = d.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w\n%s%s", strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return string(out), nil
}

// lookPath finds a command on the PATH of the demo's environment (exec.Command would search
// the PATH of this process instead).
func (d *demo) lookPath(name string) string {
	if strings.ContainsRune(name, '/') {
		return name
	}
	for _, kv := range d.env {
		if path, ok := strings.CutPrefix(kv, "PATH="); ok {
			for _, dir := range filepath.SplitList(path) {
				if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
					return filepath.Join(dir, name)
				}
			}
		}
	}
	return name
}

// alive fails when a child process or the runner has stopped.
func (d *demo) alive() error {
	for _, p := range d.procs {
		if err := p.exited(); err != nil {
			return err
		}
	}
	if d.runner != nil {
		select {
		case err := <-d.runner:
			d.runner <- err
			return fmt.Errorf("the local runner stopped: %v", err)
		default:
		}
	}
	return nil
}

func withoutVars(env []string, names ...string) []string {
	var out []string
	for _, kv := range env {
		keep := true
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				keep = false
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}
