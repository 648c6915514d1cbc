package steplogs

import (
	"errors"
	"io"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestCopy(t *testing.T) {
	step := Step{Task: "train", Name: "papermill"}
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"lines", "a\nb\n", "[train : papermill] a\n[train : papermill] b\n"},
		{"no-final-newline", "a\nb", "[train : papermill] a\n[train : papermill] b\n"},
		{"blank-line-kept", "a\n\nb\n", "[train : papermill] a\n[train : papermill] \n[train : papermill] b\n"},
		{"long-line", strings.Repeat("x", 100000) + "\n", "[train : papermill] " + strings.Repeat("x", 100000) + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			if err := Copy(&out, step, strings.NewReader(tt.in)); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("got %q, want %q", out.String(), tt.want)
			}
		})
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestCopyReadError(t *testing.T) {
	err := Copy(io.Discard, Step{Task: "t", Name: "s"}, failingReader{})
	if err == nil || !strings.Contains(err.Error(), `step "s" of task "t"`) {
		t.Errorf("got %v, want an error naming the step and task", err)
	}
}

func TestPodSteps(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p", Labels: map[string]string{LabelTaskRun: "run-1-fetch"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "step-clone"}, {Name: "sidecar-proxy"}, {Name: "step-check"},
		}},
	}
	got := podSteps(pod)
	want := []Step{
		{Namespace: "ns", Pod: "p", Container: "step-clone", Task: "run-1-fetch", Name: "clone"},
		{Namespace: "ns", Pod: "p", Container: "step-check", Task: "run-1-fetch", Name: "check"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("step %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if tasks := Tasks(append(got, Step{Task: "train"})); strings.Join(tasks, ",") != "run-1-fetch,train" {
		t.Errorf("Tasks = %v", tasks)
	}
}
