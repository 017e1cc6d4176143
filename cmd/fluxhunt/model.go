package main

import "github.com/fluxhunt/fluxhunt/detect/dga"

// modelVersion is the embedded DGA model's version.
func modelVersion() string { return dga.Default().Version() }
