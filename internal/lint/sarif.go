package lint

import (
	"encoding/json"
	"io"
	"net/url"
	"path/filepath"
	"strings"
)

// SARIF 2.1.0, as far as ferry uses it.
const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	// srcRoot is the base of relative artifact paths.
	srcRoot = "%SRCROOT%"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool              sarifTool                   `json:"tool"`
	OriginalURIBaseID map[string]sarifArtifactLoc `json:"originalUriBaseIds,omitempty"`
	Results           []sarifResult               `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string       `json:"id"`
	Name                 string       `json:"name"`
	ShortDescription     sarifMessage `json:"shortDescription"`
	FullDescription      sarifMessage `json:"fullDescription"`
	Help                 sarifHelp    `json:"help"`
	DefaultConfiguration struct {
		Level string `json:"level"`
	} `json:"defaultConfiguration"`
}

type sarifHelp struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifMessage    `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifactLoc `json:"artifactLocation"`
	Region           *sarifRegion     `json:"region,omitempty"`
}

type sarifArtifactLoc struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

// ToolInfo names the tool in a SARIF log.
type ToolInfo struct {
	Name    string
	Version string
	URI     string
}

// WriteSARIF writes the report as a SARIF 2.1.0 log with every rule described. Files
// below base are given relative to %SRCROOT% (base), others as file URIs.
func WriteSARIF(w io.Writer, r Report, tool ToolInfo, base string) error {
	rules := Rules()
	index := map[string]int{}
	driver := sarifDriver{Name: tool.Name, Version: tool.Version, InformationURI: tool.URI}
	for i, rule := range rules {
		index[rule.ID] = i
		sr := sarifRule{
			ID: rule.ID, Name: ruleName(rule.Title),
			ShortDescription: sarifMessage{rule.Title},
			FullDescription:  sarifMessage{rule.What},
			Help: sarifHelp{
				Text:     rule.What + " " + rule.Why + " Fix: " + rule.Fix,
				Markdown: "**What:** " + rule.What + "\n\n**Why:** " + rule.Why + "\n\n**Fix:** " + rule.Fix,
			},
		}
		sr.DefaultConfiguration.Level = rule.Severity.sarifLevel()
		driver.Rules = append(driver.Rules, sr)
	}
	run := sarifRun{Tool: sarifTool{driver}, Results: []sarifResult{}}
	if base != "" {
		run.OriginalURIBaseID = map[string]sarifArtifactLoc{srcRoot: {URI: fileURI(base) + "/"}}
	}
	for _, f := range r.Findings {
		loc := sarifLocation{LogicalLocations: []sarifLogical{{
			Name:               f.Object.String(),
			FullyQualifiedName: strings.TrimPrefix(f.Object.Namespace+"/", "/") + f.Object.String() + fieldSuffix(f.Field),
			Kind:               "object",
		}}}
		if f.Location != nil {
			loc.PhysicalLocation = &sarifPhysical{ArtifactLocation: artifact(base, f.Location.File)}
			if f.Location.Line > 0 {
				loc.PhysicalLocation.Region = &sarifRegion{StartLine: f.Location.Line}
			}
		}
		run.Results = append(run.Results, sarifResult{
			RuleID: f.Rule, RuleIndex: index[f.Rule], Level: f.Severity.sarifLevel(),
			Message: sarifMessage{f.Object.String() + ": " + f.Message}, Locations: []sarifLocation{loc},
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}})
}

func fieldSuffix(field string) string {
	if field == "" {
		return ""
	}
	return "." + field
}

// ruleName is a rule's title in PascalCase, as SARIF viewers expect of names.
func ruleName(title string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(title, func(r rune) bool { return r == ' ' || r == '-' }) {
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return b.String()
}

func artifact(base, path string) sarifArtifactLoc {
	if base != "" {
		if rel := relative(base, path); rel != path {
			return sarifArtifactLoc{URI: (&url.URL{Path: filepath.ToSlash(rel)}).String(), URIBaseID: srcRoot}
		}
	}
	return sarifArtifactLoc{URI: fileURI(path)}
}

func fileURI(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
}
