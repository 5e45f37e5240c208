package main

import (
	"os"

	"golang.org/x/term"
)

// termWidth is the width of the terminal on stdout, or 100.
func termWidth() int {
	if w, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil && w >= 40 {
		return w
	}
	return 100
}
