// Package labelbot is the Issue Label Bot sample application: it exports labelled issues from
// GitHub, trains a multi-label text classifier with per-label thresholds calibrated to a target
// precision, writes the model folder that the model registry publishes, and serves predictions.
package labelbot

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Issue is one line of the training data (JSONL): an issue with the labels people gave it.
type Issue struct {
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	Labels    []string  `json:"labels"`
	CreatedAt time.Time `json:"created_at"`
	URL       string    `json:"url,omitempty"`
}

// LineError says why one line of a data file was skipped.
type LineError struct {
	Line int
	Err  error
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// maxLineBytes bounds one JSONL line; a longer line is reported as bad, not loaded.
const maxLineBytes = 4 << 20

// ReadIssues reads JSONL issues. Lines that are blank are ignored; lines that cannot be used
// (bad JSON, no created_at, neither title nor body) are skipped and returned as LineErrors so
// that the caller can count and show them. Only a read failure is an error.
func ReadIssues(r io.Reader) ([]Issue, []LineError, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		issues []Issue
		bad    []LineError
		line   int
	)
	for {
		raw, err := readLine(br)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, errLineTooLong) {
			return nil, nil, fmt.Errorf("failed to read line %d: %w", line+1, err)
		}
		if errors.Is(err, io.EOF) && len(raw) == 0 {
			break
		}
		line++
		if errors.Is(err, errLineTooLong) {
			bad = append(bad, LineError{Line: line, Err: fmt.Errorf("line is longer than %d bytes", maxLineBytes)})
			continue
		}
		if strings.TrimSpace(string(raw)) == "" {
			continue
		}
		iss, perr := parseIssue(raw)
		if perr != nil {
			bad = append(bad, LineError{Line: line, Err: perr})
			continue
		}
		issues = append(issues, iss)
		if errors.Is(err, io.EOF) {
			break
		}
	}
	return issues, bad, nil
}

var errLineTooLong = errors.New("line too long")

// readLine returns one line without its newline; an over-long line is consumed and reported.
func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > maxLineBytes {
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
			return nil, errLineTooLong
		}
		buf = append(buf, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			return buf, err
		}
		return buf[:len(buf)-1], nil
	}
}

func parseIssue(raw []byte) (Issue, error) {
	var iss Issue
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if err := dec.Decode(&iss); err != nil {
		return Issue{}, fmt.Errorf("invalid JSON: %w", err)
	}
	if dec.More() {
		return Issue{}, fmt.Errorf("more than one JSON value on the line")
	}
	switch {
	case iss.CreatedAt.IsZero():
		return Issue{}, fmt.Errorf("field created_at is missing")
	case strings.TrimSpace(iss.Title) == "" && strings.TrimSpace(iss.Body) == "":
		return Issue{}, fmt.Errorf("fields title and body are both empty")
	}
	for i, l := range iss.Labels {
		if strings.TrimSpace(l) == "" {
			return Issue{}, fmt.Errorf("field labels[%d] is empty", i)
		}
	}
	return iss, nil
}

// WriteIssues writes issues as JSONL, one per line.
func WriteIssues(w io.Writer, issues []Issue) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for i := range issues {
		if err := enc.Encode(&issues[i]); err != nil {
			return fmt.Errorf("failed to write issue %d: %w", i+1, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("failed to write issues: %w", err)
	}
	return nil
}
