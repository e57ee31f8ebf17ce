package cmd

import (
	"bytes"
	"strings"
	"testing"
)

func TestVersionAndUnknownCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Execute([]string{"version"}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "weir ") {
		t.Errorf("weir version: code %d, out %q, err %q", code, out.String(), errOut.String())
	}
	out.Reset()
	if code := Execute([]string{"frobnicate"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), `unknown command "frobnicate"`) {
		t.Errorf("an unknown command: code %d, err %q", code, errOut.String())
	}
}
