package plugin

import "testing"

// The PR part of a deploy run's line tells an opened PR, a dry run and no proposal apart.
func TestDeployResultsText(t *testing.T) {
	tests := []struct {
		params, results map[string]string
		want            string
	}{
		{nil, map[string]string{"commit": "9f8e7d6c5b4a", "push-status": "pushed", "pr-url": "https://github.com/o/r/pull/7"},
			"branch commit 9f8e7d6  push pushed  PR https://github.com/o/r/pull/7"},
		{map[string]string{"pr-dry-run": "true"}, map[string]string{"commit": "9f8e7d6c5b4a", "push-status": "pushed"},
			"branch commit 9f8e7d6  push pushed  PR (dry run: printed, not opened)"},
		{map[string]string{"dry-run": "true"}, map[string]string{"push-status": "would-push"},
			"branch commit ---  push would-push  PR (dry run)"},
		{nil, map[string]string{"push-status": "up-to-date", "commit": "9f8e7d6c5b4a"},
			"branch commit 9f8e7d6  push up-to-date  PR (none: nothing to propose)"},
		{nil, map[string]string{"commit": "9f8e7d6c5b4a", "push-status": "pushed"},
			"branch commit 9f8e7d6  push pushed  PR ---"},
	}
	for _, tt := range tests {
		if got := deployResultsText(&RunLink{Params: tt.params, Results: tt.results}); got != tt.want {
			t.Errorf("params %v results %v:\n got %q\nwant %q", tt.params, tt.results, got, tt.want)
		}
	}
}
