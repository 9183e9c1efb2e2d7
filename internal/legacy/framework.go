package legacy

import (
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// Framework is what a legacy app is built with, as far as moving it cares: where it
// keeps state, which variables replace its config files, how its tasks are run.
type Framework string

// The frameworks DetectFramework tells apart.
const (
	Unknown Framework = ""
	Rails   Framework = "rails"
	Laravel Framework = "laravel"
	Symfony Framework = "symfony"
	// PHP is PHP without Laravel or Symfony: Composer, plain scripts, WordPress.
	PHP Framework = "php"
)

// Frameworks lists the known frameworks, for flags and docs.
var Frameworks = []Framework{Rails, Laravel, Symfony, PHP}

// FrameworkEvidence is what DetectFramework looks at; any part may be empty.
type FrameworkEvidence struct {
	// Root is the app's checkout: composer.json, artisan, bin/console, Gemfile.
	Root string
	// Capistrano is the text of a Capistrano config (capistrano/laravel sets
	// :laravel_* options, capistrano/symfony :symfony_*).
	Capistrano []byte
	// Linked are Capistrano's linked files and directories.
	Linked []string
	// Vars are names of the app's variables.
	Vars []string
	// Commands are commands the app's jobs run.
	Commands []string
}

var (
	gemRails       = regexp.MustCompile(`(?m)^\s*gem\s+['"]rails['"]`)
	capLaravel     = regexp.MustCompile(`(?i)\blaravel`)
	capSymfony     = regexp.MustCompile(`(?i)\bsymfony`)
	capComposer    = regexp.MustCompile(`(?i)\bcomposer`)
	capRails       = regexp.MustCompile(`(?i)\b(rails|rbenv|rvm|bundler|puma|sidekiq)\b`)
	commandArtisan = regexp.MustCompile(`(^|[\s/])artisan(\s|$)`)
	commandConsole = regexp.MustCompile(`(^|[\s/])bin/console(\s|$)`)
	commandRails   = regexp.MustCompile(`(^|[\s/])(rake|rails|bundle)\s`)
	commandPHP     = regexp.MustCompile(`(^|[\s/])php[0-9.]*(-cli)?\s`)
)

// DetectFramework tells which framework the evidence shows and why: the app's files
// first, then its Capistrano config, linked paths, variables and commands. Laravel
// and Symfony win over plain PHP; Unknown when nothing tells.
func DetectFramework(e FrameworkEvidence) (Framework, string) {
	var php string
	for _, check := range []func(FrameworkEvidence) (Framework, string){frameworkOfFiles, frameworkOfCapistrano, frameworkOfLinked, frameworkOfVars, frameworkOfCommands} {
		f, why := check(e)
		switch {
		case f == PHP && php == "":
			php = why
		case f != Unknown && f != PHP:
			return f, why
		}
	}
	if php != "" {
		return PHP, php
	}
	return Unknown, ""
}

// frameworkOfFiles reads the marker files of the app's checkout.
func frameworkOfFiles(e FrameworkEvidence) (Framework, string) {
	if e.Root == "" {
		return Unknown, ""
	}
	exists := func(name string) bool {
		_, err := os.Stat(filepath.Join(e.Root, name))
		return err == nil
	}
	var composer struct {
		Require map[string]string `json:"require"`
	}
	hasComposer := false
	if data, err := os.ReadFile(filepath.Join(e.Root, "composer.json")); err == nil {
		hasComposer = true
		_ = json.Unmarshal(data, &composer) // a broken composer.json still says PHP
	}
	gemfile, _ := os.ReadFile(filepath.Join(e.Root, "Gemfile"))
	switch {
	case composer.Require["laravel/framework"] != "":
		return Laravel, "composer.json requires laravel/framework"
	case hasComposer && exists("artisan"):
		return Laravel, "the app has artisan"
	case composer.Require["symfony/framework-bundle"] != "":
		return Symfony, "composer.json requires symfony/framework-bundle"
	case hasComposer && exists("bin/console"):
		return Symfony, "the app has bin/console"
	case gemRails.Match(gemfile) || exists("config/application.rb"):
		return Rails, "the Gemfile requires rails"
	case hasComposer:
		return PHP, "the app has composer.json"
	}
	return Unknown, ""
}

func frameworkOfCapistrano(e FrameworkEvidence) (Framework, string) {
	switch {
	case capLaravel.Match(e.Capistrano):
		return Laravel, "the Capistrano config sets up Laravel"
	case capSymfony.Match(e.Capistrano):
		return Symfony, "the Capistrano config sets up Symfony"
	case capComposer.Match(e.Capistrano):
		return PHP, "the Capistrano config runs Composer"
	case capRails.Match(e.Capistrano):
		return Rails, "the Capistrano config sets up Ruby"
	}
	return Unknown, ""
}

// linkedMarkers are linked paths only one framework has.
var linkedMarkers = map[string]Framework{
	"storage": Laravel, "bootstrap/cache": Laravel, "storage/app": Laravel, "storage/app/public": Laravel,
	"var/log": Symfony, "var/logs": Symfony, "var/sessions": Symfony, "app/config/parameters.yml": Symfony, "app/logs": Symfony,
	"config/master.key": Rails, "config/database.yml": Rails, "config/secrets.yml": Rails, "tmp/pids": Rails,
	"vendor/bundle": Rails, "public/system": Rails, "config/credentials/production.key": Rails,
	"vendor": PHP, "wp-content/uploads": PHP, "wp-config.php": PHP,
}

func frameworkOfLinked(e FrameworkEvidence) (Framework, string) {
	var php string
	for _, p := range e.Linked {
		p = path.Clean(strings.TrimPrefix(p, "/"))
		switch f := linkedMarkers[p]; f {
		case Unknown:
		case PHP:
			php = p
		default:
			return f, "Capistrano links " + p
		}
	}
	if php != "" {
		return PHP, "Capistrano links " + php
	}
	return Unknown, ""
}

func frameworkOfVars(e FrameworkEvidence) (Framework, string) {
	has := map[string]bool{}
	for _, v := range e.Vars {
		has[v] = true
	}
	switch {
	case has["APP_KEY"]:
		return Laravel, "the app has APP_KEY"
	case has["APP_SECRET"] && has["APP_ENV"]:
		return Symfony, "the app has APP_SECRET"
	case has["RAILS_ENV"] || has["RAILS_MASTER_KEY"] || has["SECRET_KEY_BASE"]:
		return Rails, "the app has Rails variables"
	}
	return Unknown, ""
}

func frameworkOfCommands(e FrameworkEvidence) (Framework, string) {
	var php string
	for _, c := range e.Commands {
		switch {
		case commandArtisan.MatchString(c):
			return Laravel, "its jobs run artisan"
		case commandConsole.MatchString(c):
			return Symfony, "its jobs run bin/console"
		case commandRails.MatchString(c):
			return Rails, "its jobs run rake or rails"
		case commandPHP.MatchString(c):
			php = "its jobs run php"
		}
	}
	if php != "" {
		return PHP, php
	}
	return Unknown, ""
}

// AppRoot is the checkout a Capistrano config belongs to: the directory above
// config/ (config/deploy.rb, config/deploy/production.rb), else the config's own.
func AppRoot(capistranoFile string) string {
	dir := filepath.Dir(capistranoFile)
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if filepath.Base(d) == "config" {
			return filepath.Dir(d)
		}
	}
	return dir
}
