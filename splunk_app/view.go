package splunkapp

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// View is a Dashboard Studio dashboard: default/data/ui/views/NAME.xml
// holding <dashboard version="2"> with the JSON definition in CDATA.
type View struct {
	File       string
	Version    string
	Theme      string
	Label      string
	Definition Definition
}

// Definition is the part of the Dashboard Studio JSON the checks read.
type Definition struct {
	Title          string                   `json:"title"`
	Description    string                   `json:"description"`
	DataSources    map[string]DataSource    `json:"dataSources"`
	Visualizations map[string]Visualization `json:"visualizations"`
	Inputs         map[string]Input         `json:"inputs"`
	Layout         Layout                   `json:"layout"`
}

// DataSource is one entry of dataSources.
type DataSource struct {
	Type    string `json:"type"`
	Name    string `json:"name"`
	Options struct {
		Query           string            `json:"query"`
		QueryParameters map[string]string `json:"queryParameters"`
	} `json:"options"`
}

// Visualization is one entry of visualizations.
type Visualization struct {
	Type          string            `json:"type"`
	Title         string            `json:"title"`
	DataSources   map[string]string `json:"dataSources"`
	EventHandlers []EventHandler    `json:"eventHandlers"`
}

// EventHandler is a drilldown.
type EventHandler struct {
	Type    string `json:"type"`
	Options struct {
		App       string `json:"app"`
		Dashboard string `json:"dashboard"`
		Tokens    []struct {
			Token string `json:"token"`
			Value string `json:"value"`
		} `json:"tokens"`
	} `json:"options"`
}

// Input is one entry of inputs.
type Input struct {
	Type    string `json:"type"`
	Options struct {
		Token        string `json:"token"`
		DefaultValue any    `json:"defaultValue"`
	} `json:"options"`
}

// Layout is the layout section.
type Layout struct {
	Type      string `json:"type"`
	Structure []struct {
		Item     string         `json:"item"`
		Type     string         `json:"type"`
		Position map[string]int `json:"position"`
	} `json:"structure"`
	GlobalInputs []string `json:"globalInputs"`
}

// ParseView reads a Dashboard Studio view file.
func ParseView(file string, b []byte) (*View, error) {
	var x struct {
		XMLName    xml.Name `xml:"dashboard"`
		Version    string   `xml:"version,attr"`
		Theme      string   `xml:"theme,attr"`
		Label      string   `xml:"label"`
		Definition string   `xml:"definition"`
	}
	if err := xml.Unmarshal(b, &x); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	v := &View{File: file, Version: x.Version, Theme: x.Theme, Label: strings.TrimSpace(x.Label)}
	if err := json.Unmarshal([]byte(x.Definition), &v.Definition); err != nil {
		return nil, fmt.Errorf("%s: definition JSON: %w", file, err)
	}
	return v, nil
}

var tokenRE = regexp.MustCompile(`\$([A-Za-z0-9_.:]+)\$`)

// Tokens lists the $name$ tokens in s, sorted and unique.
func Tokens(s string) []string {
	set := FieldSet{}
	for _, m := range tokenRE.FindAllStringSubmatch(s, -1) {
		set[m[1]] = true
	}
	out := set.Sorted()
	sort.Strings(out)
	return out
}
