package local

import "context"

// PackageChart returns the .tgz `helm package` would make of a chart whose files are given by
// path inside the chart directory: each under name/. The benchmark harness (cli/bench) serves
// its own chart with it, as the demo serves its chart.
func PackageChart(name string, files map[string]string) ([]byte, error) {
	return packageChart(name, files)
}

// RunGit runs git in dir with no user or system configuration and the demo's identity, and
// returns its trimmed output.
func RunGit(ctx context.Context, dir string, args ...string) (string, error) {
	return runGit(ctx, dir, args...)
}
