package postrender

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"weir.dev/api/meta"
)

func TestLimitCountsBeforeAndAfterTheChain(t *testing.T) {
	cms := func(n int) *bytes.Buffer {
		var b bytes.Buffer
		for i := range n {
			fmt.Fprintf(&b, "---\n# Source: demo/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d}\n", i)
		}
		return &b
	}
	next := New(nil, &meta.CommonMetadata{Labels: map[string]string{"team": "a"}})
	out, err := Limit{Max: 2, Next: next}.Run(cms(2))
	if err != nil || !strings.Contains(out.String(), "team: a") {
		t.Fatalf("two objects with a cap of 2: %v\n%s", err, out)
	}
	_, err = Limit{Max: 2, Next: next}.Run(cms(3))
	var tooMany *TooManyObjectsError
	if !errors.As(err, &tooMany) || tooMany.Count != 3 || tooMany.Max != 2 {
		t.Fatalf("three objects with a cap of 2: %v", err)
	}
}
