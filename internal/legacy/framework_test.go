package legacy

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDetectFramework(t *testing.T) {
	app := func(files map[string]string) string {
		dir := t.TempDir()
		for name, text := range files {
			if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	for _, tc := range []struct {
		name string
		e    FrameworkEvidence
		want Framework
	}{
		{"laravel composer.json", FrameworkEvidence{Root: app(map[string]string{"composer.json": `{"require": {"php": "^8.2", "laravel/framework": "^11.0"}}`})}, Laravel},
		{"artisan", FrameworkEvidence{Root: app(map[string]string{"composer.json": `{}`, "artisan": "#!/usr/bin/env php"})}, Laravel},
		{"symfony composer.json", FrameworkEvidence{Root: app(map[string]string{"composer.json": `{"require": {"symfony/framework-bundle": "7.1.*"}}`})}, Symfony},
		{"bin/console", FrameworkEvidence{Root: app(map[string]string{"composer.json": `{}`, "bin/console": "#!/usr/bin/env php"})}, Symfony},
		{"Gemfile", FrameworkEvidence{Root: app(map[string]string{"Gemfile": "source 'https://rubygems.org'\ngem 'rails', '~> 7.1'\n"})}, Rails},
		{"plain composer", FrameworkEvidence{Root: app(map[string]string{"composer.json": `{"require": {"monolog/monolog": "^3"}}`})}, PHP},
		{"capistrano-laravel", FrameworkEvidence{Capistrano: []byte("set :laravel_upload_dotenv_file_on_deploy, false\n")}, Laravel},
		{"linked storage", FrameworkEvidence{Linked: []string{"vendor", "storage"}}, Laravel},
		{"linked vendor only", FrameworkEvidence{Linked: []string{"vendor"}}, PHP},
		{"linked master.key", FrameworkEvidence{Linked: []string{"config/master.key"}}, Rails},
		{"APP_KEY", FrameworkEvidence{Vars: []string{"APP_ENV", "APP_KEY"}}, Laravel},
		{"APP_SECRET", FrameworkEvidence{Vars: []string{"APP_ENV", "APP_SECRET"}}, Symfony},
		{"php bin/console", FrameworkEvidence{Commands: []string{"php /srv/app/bin/console app:reindex"}}, Symfony},
		{"php script then artisan", FrameworkEvidence{Commands: []string{"php cron.php", "cd /srv && php artisan x"}}, Laravel},
		{"rake", FrameworkEvidence{Commands: []string{"bundle exec rake reports:daily"}}, Rails},
		{"files win over commands", FrameworkEvidence{Root: app(map[string]string{"Gemfile": "gem \"rails\"\n"}), Commands: []string{"php artisan x"}}, Rails},
		{"nothing", FrameworkEvidence{Commands: []string{"/usr/local/bin/backup"}}, Unknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, why := DetectFramework(tc.e); got != tc.want || (got != Unknown && why == "") {
				t.Fatalf("DetectFramework = %q (%s), want %q", got, why, tc.want)
			}
		})
	}
	for file, want := range map[string]string{"app/config/deploy.rb": "app", "app/config/deploy/production.rb": "app", "deploy.rb": "."} {
		if got := AppRoot(file); got != want {
			t.Errorf("AppRoot(%s) = %s, want %s", file, got, want)
		}
	}
}
