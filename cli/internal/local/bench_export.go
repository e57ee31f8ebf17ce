package local

import "context"

// ServeChart serves a Helm repository holding one chart, name at version, made of files (paths
// inside the chart), on 127.0.0.1 as the demo serves its chart. It returns the repository's URL
// and a function that stops it. The benchmark harness (cli/bench) installs its releases from it.
func ServeChart(name, version string, files map[string]string) (url string, stop func(), err error) {
	r, err := startHelmRepository(name, version, files)
	if err != nil {
		return "", nil, err
	}
	return r.url, r.close, nil
}

// RunGit runs git in dir with no user or system configuration and the demo's identity, and
// returns its trimmed output.
func RunGit(ctx context.Context, dir string, args ...string) (string, error) {
	return runGit(ctx, dir, args...)
}
