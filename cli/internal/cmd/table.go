package cmd

import (
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// ANSI colours for Ready's status.
const (
	colourGreen  = "\x1b[32m"
	colourRed    = "\x1b[31m"
	colourYellow = "\x1b[33m"
	colourReset  = "\x1b[0m"
)

// isTerminal reports whether weir colours what it writes to w: when w is a terminal and
// NO_COLOR (https://no-color.org) is unset.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && os.Getenv("NO_COLOR") == "" && term.IsTerminal(int(f.Fd()))
}

// table prints rows in aligned columns. Widths are computed on the plain text, so colouring
// a cell does not break the alignment.
type table struct {
	header []string
	// noHeader leaves the header out; its widths still count, so rows printed later line up.
	noHeader bool
	rows     [][]string
	// colour returns the colour of a cell, or "" for none; nil for no colour at all.
	colour func(row, col int) string
}

func (t *table) write(w io.Writer) error {
	widths := make([]int, len(t.header))
	for _, r := range append([][]string{t.header}, t.rows...) {
		for i, cell := range r {
			widths[i] = max(widths[i], len([]rune(cell)))
		}
	}
	line := func(r []string, row int) string {
		var b strings.Builder
		for i, cell := range r {
			pad := ""
			if i < len(r)-1 {
				pad = strings.Repeat(" ", widths[i]-len([]rune(cell))+3)
			}
			if c := t.colourOf(row, i); c != "" {
				cell = c + cell + colourReset
			}
			b.WriteString(cell + pad)
		}
		return strings.TrimRight(b.String(), " ") + "\n"
	}
	var b strings.Builder
	if !t.noHeader {
		b.WriteString(line(t.header, -1))
	}
	for i, r := range t.rows {
		b.WriteString(line(r, i))
	}
	_, err := fmt.Fprint(w, b.String())
	return err
}

func (t *table) colourOf(row, col int) string {
	if t.colour == nil || row < 0 {
		return ""
	}
	return t.colour(row, col)
}

// readyColour is the colour of a Ready status: green, red or yellow.
func readyColour(status string) string {
	switch status {
	case "True":
		return colourGreen
	case "False":
		return colourRed
	default:
		return colourYellow
	}
}
