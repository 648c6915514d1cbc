package gitops

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"text/template"

	"github.com/modelsync/modelsync/internal/registry"
)

// Change is the edit Push proposes, as read from the diff between the base and the work tree.
type Change struct {
	// Key is the key that names the model (automl-model).
	Key string
	// OldModel and NewModel are the values of Key removed and added by the diff; empty when
	// the diff does not touch the key.
	OldModel, NewModel string
	// Files are the paths changed, relative to the work tree.
	Files []string
}

// describeChange reads the change between base and tree.
func describeChange(ctx context.Context, g *Git, base, tree, key string) (Change, error) {
	c := Change{Key: key}
	names, err := g.Run(ctx, "diff", "--name-only", base, tree)
	if err != nil {
		return c, fmt.Errorf("failed to list changed files: %w", err)
	}
	c.Files = strings.Fields(names)
	diff, err := g.Run(ctx, "diff", "--no-color", "--no-ext-diff", "--unified=0", base, tree)
	if err != nil {
		return c, fmt.Errorf("failed to diff the change: %w", err)
	}
	c.OldModel, c.NewModel = modelValues(diff, key)
	return c, nil
}

// modelValues returns the first removed and added values of key in a unified diff.
func modelValues(diff, key string) (old, new string) {
	for _, line := range strings.Split(diff, "\n") {
		if strings.HasPrefix(line, "---") || strings.HasPrefix(line, "+++") || line == "" {
			continue
		}
		sign := line[0]
		if sign != '-' && sign != '+' {
			continue
		}
		v, ok := valueOf(line[1:], key)
		if !ok {
			continue
		}
		if sign == '-' && old == "" {
			old = v
		}
		if sign == '+' && new == "" {
			new = v
		}
	}
	return old, new
}

// valueOf parses `key: value  # comment` (YAML) and returns value without quotes.
func valueOf(line, key string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), key+":")
	if !ok {
		rest, ok = strings.CutPrefix(strings.TrimSpace(line), `"`+key+`":`)
	}
	if !ok {
		return "", false
	}
	rest = strings.TrimSpace(rest)
	if i := strings.Index(rest, " #"); i >= 0 {
		rest = strings.TrimSpace(rest[:i])
	}
	return strings.Trim(strings.TrimSuffix(rest, ","), `"'`), true
}

// Lineage is what the messages say about where the model came from.
type Lineage struct {
	// Model is the registry manifest of the new model, when known.
	Model *registry.Model
	// Run is the namespace/name of the PipelineRun that makes the proposal.
	Run string
	// Report links the training report, when not in the manifest.
	Report string
}

// MessageData is what the commit message, PR title and PR body templates are rendered from.
type MessageData struct {
	Change
	Lineage
}

// Default templates. The title does not name the old model, so that it stays stable enough to
// recognise in a list of pull requests.
const (
	DefaultCommitTemplate = `Update {{.Key}}: {{or .OldModel "(unset)"}} -> {{.NewModel}}
{{template "lineage" .}}`
	DefaultTitleTemplate = `Update {{.Key}} to {{.NewModel}}`
	DefaultBodyTemplate  = `This pull request changes ` + "`{{.Key}}`" + ` from ` + "`{{or .OldModel \"(unset)\"}}`" + ` to ` + "`{{.NewModel}}`" + `.
Merging it deploys the model.

Files: {{range $i, $f := .Files}}{{if $i}}, {{end}}` + "`{{$f}}`" + `{{end}}
{{template "lineage" .}}
_Opened by modelsync; it is updated in place when a newer model is proposed._
`
	lineageTemplate = `{{define "lineage"}}{{with .Model}}
Model: {{.ID}}{{if not .Created.IsZero}} (trained {{.Created.UTC.Format "2006-01-02T15:04:05Z"}}){{end}}
{{- with .Metrics.Micro}}
Metrics (micro): precision {{printf "%.3f" .Precision}}, recall {{printf "%.3f" .Recall}}, F1 {{printf "%.3f" .F1}}{{end}}
{{- with .Lineage.PipelineRun}}
Training run: {{.}}{{end}}
{{- with .Lineage.CodeRevision}}
Code revision: {{.}}{{end}}
{{- with .Lineage.DataSnapshot}}
Data snapshot: {{.}}{{end}}
{{- with .Lineage.Report}}
Report: {{.}}{{end}}
{{- end}}
{{- if and .Report (not (and .Model .Model.Lineage.Report))}}
Report: {{.Report}}{{end}}
{{- with .Run}}
Proposed by: {{.}}{{end}}
{{end}}`
)

// Template is a parsed message template.
type Template struct{ t *template.Template }

// ParseTemplate parses text; name is used in errors (the flag that supplied it).
func ParseTemplate(name, text string) (*Template, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(lineageTemplate)
	if err == nil {
		t, err = t.Parse(text)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to parse template %s: %w", name, err)
	}
	return &Template{t: t}, nil
}

// Render executes the template.
func (t *Template) Render(data MessageData) (string, error) {
	var buf bytes.Buffer
	if err := t.t.Execute(&buf, data); err != nil {
		return "", fmt.Errorf("failed to render template %s: %w", t.t.Name(), err)
	}
	return strings.TrimSpace(buf.String()) + "\n", nil
}
