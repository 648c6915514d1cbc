package labelbot

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestReadIssues(t *testing.T) {
	good := `{"title":"a","body":"b","labels":["bug"],"created_at":"2025-01-01T00:00:00Z","url":"u1"}`
	tests := []struct {
		name     string
		input    string
		want     int
		wantBad  []string
		wantLast string
	}{
		{name: "good", input: good + "\n" + good, want: 2},
		{name: "no-trailing-newline-and-blank-lines", input: "\n" + good + "\n\n" + good, want: 2},
		{name: "bad-lines-counted-with-numbers", input: strings.Join([]string{
			good,
			`{"title":"a","created_at":`,
			`{"title":"x","body":"y","labels":["bug"]}`,
			`{"title":" ","body":"","created_at":"2025-01-01T00:00:00Z"}`,
			`{"title":"a","labels":[""],"created_at":"2025-01-01T00:00:00Z"}`,
			`{"title":"a","created_at":"yesterday"}`,
			`{"title":"a","created_at":"2025-01-01T00:00:00Z"} {}`,
			good,
		}, "\n"), want: 2, wantBad: []string{
			"line 2: invalid JSON: unexpected EOF",
			"line 3: field created_at is missing",
			"line 4: fields title and body are both empty",
			"line 5: field labels[0] is empty",
			`line 6: invalid JSON: parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"`,
			"line 7: more than one JSON value on the line",
		}},
		{name: "empty", input: "", want: 0},
		{name: "long-line", input: good + "\n" + `{"title":"` + strings.Repeat("x", maxLineBytes) + `"}` + "\n" + good, want: 2,
			wantBad: []string{fmt.Sprintf("line 2: line is longer than %d bytes", maxLineBytes)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			issues, bad, err := ReadIssues(strings.NewReader(tc.input))
			if err != nil {
				t.Fatal(err)
			}
			if len(issues) != tc.want {
				t.Errorf("got %d issues, want %d", len(issues), tc.want)
			}
			var got []string
			for _, b := range bad {
				got = append(got, b.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tc.wantBad, "\n") {
				t.Errorf("bad lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.wantBad, "\n"))
			}
		})
	}
}

func TestWriteIssuesRoundTrip(t *testing.T) {
	issues := generate(t, 50, 3)
	var buf bytes.Buffer
	if err := WriteIssues(&buf, issues); err != nil {
		t.Fatal(err)
	}
	back, bad, err := ReadIssues(&buf)
	if err != nil || len(bad) > 0 {
		t.Fatalf("read back: %v %v", err, bad)
	}
	if fmt.Sprint(back) != fmt.Sprint(issues) {
		t.Error("issues changed on a round trip through JSONL")
	}
}

func TestGenerateSeeded(t *testing.T) {
	a, b, c := generate(t, 200, 1), generate(t, 200, 1), generate(t, 200, 2)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Error("the same seed gave different data")
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Error("different seeds gave the same data")
	}
	if _, err := Generate(GenerateOptions{N: 0}); err == nil {
		t.Error("want an error for a count of 0")
	}
}
