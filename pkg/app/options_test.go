package app

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want []string // substrings of the error; none means valid
	}{
		{name: "defaults"},
		{name: "everything set", args: []string{"--metrics-addr=0", "--health-addr=127.0.0.1:9440", "--pprof-addr=127.0.0.1:6060", "--concurrent=20",
			"--log-level=debug", "--log-encoding=console", "--events-addr=http://nc.weir-system.svc/",
			"--watch-label-selector=sharding.weir.dev/key in (a,b)", "--kube-api-qps=-1", "--kube-api-burst=0",
			"--min-interval=1m", "--interval-jitter-percentage=20"}},
		{name: "no floor, no jitter", args: []string{"--min-interval=0", "--interval-jitter-percentage=0"}},
		{name: "negative floor", args: []string{"--min-interval=-1s"}, want: []string{"--min-interval: must not be negative"}},
		{name: "jitter of 100%", args: []string{"--interval-jitter-percentage=100"}, want: []string{"--interval-jitter-percentage: must be less than 100"}},
		{name: "negative jitter", args: []string{"--interval-jitter-percentage=-5"}, want: []string{"interval-jitter-percentage"}},
		{name: "bad port", args: []string{"--health-addr=:http"}, want: []string{"--health-addr", "must be a number"}},
		{name: "port out of range", args: []string{"--metrics-addr=:70000"}, want: []string{"--metrics-addr"}},
		{name: "bad pprof address", args: []string{"--pprof-addr=localhost"}, want: []string{"--pprof-addr"}},
		{name: "host name", args: []string{"--health-addr=example.com:9440"}, want: []string{"--health-addr", "IP address"}},
		{name: "events URL with credentials", args: []string{"--events-addr=http://u:p@nc/"}, want: []string{"--events-addr", "credentials"}},
		{name: "events URL without host", args: []string{"--events-addr=http://"}, want: []string{"--events-addr"}},
		{name: "burst with a limit", args: []string{"--kube-api-burst=0"}, want: []string{"--kube-api-burst"}},
		{name: "short leader election", args: []string{"--leader-election-lease-duration=4s", "--leader-election-renew-deadline=3s", "--leader-election-retry-period=1s"}},
		{name: "renew deadline past the lease", args: []string{"--leader-election-renew-deadline=60s"}, want: []string{"--leader-election-renew-deadline", "shorter than --leader-election-lease-duration"}},
		{name: "retry period near the renew deadline", args: []string{"--leader-election-retry-period=35s"}, want: []string{"--leader-election-retry-period", "divided by 1.2"}},
		{name: "lease in fractions of a second", args: []string{"--leader-election-lease-duration=61500ms"}, want: []string{"--leader-election-lease-duration", "whole number of seconds"}},
		{name: "zero durations", args: []string{"--leader-election-lease-duration=0", "--leader-election-renew-deadline=0", "--leader-election-retry-period=0"},
			want: []string{"--leader-election-lease-duration: must be at least 1s", "--leader-election-renew-deadline: must be positive", "--leader-election-retry-period: must be positive"}},
		{name: "several at once", args: []string{"--log-level=x", "--concurrent=-1"}, want: []string{"--log-level", "--concurrent"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var o Options
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			o.BindFlags(fs)
			err := Parse(fs, tc.args, o.Validate)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want one naming %v", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestParseRejectsArguments(t *testing.T) {
	var o Options
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	o.BindFlags(fs)
	if err := Parse(fs, []string{"stray"}, o.Validate); err == nil || !strings.Contains(err.Error(), "stray") {
		t.Fatalf("got %v, want an error naming the stray argument", err)
	}
}
