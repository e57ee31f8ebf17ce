package cmd

import (
	"sort"
	"strings"

	"weir.dev/cli/internal/objects"
)

// kindCompletions returns the kinds' names for shell completion.
func kindCompletions(withAll bool) []string {
	var names []string
	for _, k := range objects.Kinds {
		names = append(names, strings.ToLower(k.Kind))
	}
	if withAll {
		names = append(names, "all")
	}
	sort.Strings(names)
	return names
}
