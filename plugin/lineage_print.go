package plugin

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/modelsync/modelsync/internal/registry"
	"github.com/modelsync/modelsync/plugin/format"
)

// print writes the lineage as text (one labelled line per link, newest first), json or yaml.
func (o *LineageOptions) print(l *Lineage) error {
	switch o.Output {
	case "json":
		data, err := json.MarshalIndent(l, "", "    ")
		if err != nil {
			return fmt.Errorf("failed to print the lineage: %w", err)
		}
		_, err = fmt.Fprintf(o.Out, "%s\n", data)
		return err
	case "yaml":
		data, err := yaml.Marshal(l)
		if err != nil {
			return fmt.Errorf("failed to print the lineage: %w", err)
		}
		_, err = o.Out.Write(data)
		return err
	}
	now := o.Now()
	fmt.Fprintf(o.Out, "MODEL %s  (registry %s, namespace %s)\n", l.Model, l.Registry, l.Namespace)
	w := newTabWriter(o.Out)
	w.line("  deployed", configMapText(&l.Deployed))
	w.line("  proposed by", runText(&l.DeployRun, now, deployResultsText))
	w.line("  asked by", checkText(&l.DeployRun, now))
	for _, line := range modelText(&l.Manifest, now) {
		w.line(line[0], line[1])
	}
	w.line("  trained by", runText(&l.TrainingRun, now, trainResultsText))
	w.line("  asked by", checkText(&l.TrainingRun, now))
	for _, ms := range l.ModelSyncs {
		w.line("  "+ms.Role, modelSyncText(&ms, now))
	}
	return w.flush()
}

func missingText(why string) string { return "(not found: " + why + ")" }

func configMapText(c *ConfigMapLink) string {
	if c.Missing != "" {
		return missingText(c.Missing)
	}
	commit := "applied from commit " + shortCommit(c.SourceCommit)
	if c.SourceCommit == "" {
		commit = "(no source-commit annotation: not applied by a GitOps agent)"
	}
	return fmt.Sprintf("configmap %s  %s=%s  %s", c.Name, c.Key, c.Value, commit)
}

// runText is "run NAME  Result AGE ago (DURATION)" and what the run reported.
func runText(r *RunLink, now time.Time, results func(*RunLink) string) string {
	if r.Missing != "" {
		return missingText(r.Missing)
	}
	s := fmt.Sprintf("run %s  %s %s (%s)", r.Name, r.Result, ago(r.Started, now), format.Duration(r.Started, r.Completed, now))
	if r.Result == "Failed" {
		why := format.OneLine(r.Message)
		if why == "" && r.Reason != "Failed" {
			why = r.Reason
		}
		if why != "" {
			s += ": " + why
		}
	}
	if more := results(r); more != "" {
		s += "  " + more
	}
	return s
}

// deployResultsText shows the results of update-model-pr: the branch commit, the push and the PR.
func deployResultsText(r *RunLink) string {
	results := r.Results
	pr := results["pr-url"]
	if pr == "" {
		switch status := results["push-status"]; {
		case status == "would-push":
			pr = "(dry run)"
		case r.Params["pr-dry-run"] == "true" && status == "pushed":
			pr = "(dry run: printed, not opened)"
		case status == "no-changes" || status == "up-to-date":
			pr = "(none: nothing to propose)"
		default:
			pr = format.Missing
		}
	}
	return fmt.Sprintf("branch commit %s  push %s  PR %s", shortCommit(results["commit"]), format.Or(results["push-status"]), pr)
}

// trainResultsText shows the training run's results as sorted key=value pairs.
func trainResultsText(r *RunLink) string {
	if len(r.Results) == 0 {
		return ""
	}
	return "results " + format.Params(r.Results)
}

func checkText(r *RunLink, now time.Time) string {
	switch {
	case r.Missing != "":
		return missingText("it is recorded on the run, which is not found")
	case r.Check == nil:
		return missingText("the run was not created by a ModelSync")
	}
	c := r.Check
	detail := []string{format.Or(c.Trigger)}
	if c.RequestedAt != "" {
		detail = append(detail, "requested "+c.RequestedAt)
	}
	if c.Generation > 0 {
		detail = append(detail, fmt.Sprintf("generation %d", c.Generation))
	}
	params := format.Missing
	if len(c.Parameters) > 0 {
		data, _ := json.Marshal(c.Parameters) // map keys come out sorted
		params = string(data)
	}
	return fmt.Sprintf("%s check %s (%s)  parameters %s", format.Or(c.ModelSync), ago(c.Checked, now), strings.Join(detail, ", "), params)
}

// modelText is the model's lines: when, the figures, and the files.
func modelText(m *ModelLink, now time.Time) [][2]string {
	if m.Missing != "" {
		return [][2]string{{"  trained", missingText(m.Missing)}}
	}
	when := fmt.Sprintf("created %s, published %s", ago(m.Created, now), ago(m.Published, now))
	if m.CodeRevision != "" {
		when += "  code " + shortCommit(m.CodeRevision)
	}
	when += "  data snapshot " + format.Or(m.DataSnapshot)
	files := make([]string, 0, len(m.Files))
	for _, f := range m.Files {
		files = append(files, path.Base(f))
	}
	return [][2]string{
		{"  trained", when},
		{"  metrics", "micro " + averagesText(m.Micro) + " · macro " + averagesText(m.Macro)},
		{"  report", format.Or(m.Report) + "  files " + format.Or(strings.Join(files, ", "))},
	}
}

func averagesText(a *registry.Averages) string {
	if a == nil {
		return format.Missing
	}
	return fmt.Sprintf("P %.2f R %.2f F1 %.2f", a.Precision, a.Recall, a.F1)
}

func modelSyncText(ms *ModelSyncLink, now time.Time) string {
	if ms.Missing != "" {
		return missingText(ms.Missing)
	}
	s := fmt.Sprintf("%s  asks %s every %s", ms.Name, ms.NeedsSyncURL, ms.Interval)
	if ms.Suspended {
		s += " (suspended)"
	}
	ready := format.Missing
	if ms.Ready != nil {
		ready = string(ms.Ready.Status)
		if ms.Ready.Reason != "" {
			ready += " (" + ms.Ready.Reason + ")"
		}
	}
	s += "  Ready " + ready
	answer := format.Missing
	if n := ms.LastNeedsSync; n != nil {
		switch {
		case n.Error != "":
			answer = "error: " + format.OneLine(n.Error)
		case n.NeedsSync:
			answer = "sync needed (" + format.Params(n.Parameters) + ")"
		default:
			answer = "in sync"
		}
		answer = ago(&n.Time, now) + ": " + answer
	}
	return s + "  last answer " + answer
}

// shortCommit abbreviates a full git hash to 7 characters, as git does; anything else is kept.
func shortCommit(c string) string {
	if len(c) < 12 || strings.Trim(c, "0123456789abcdef") != "" {
		return format.Or(c)
	}
	return c[:7]
}
