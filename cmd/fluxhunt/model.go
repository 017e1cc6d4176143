package main

// modelVersion is the DGA model's version (issue 4 wires the embedded model).
func modelVersion() string { return "none" }
