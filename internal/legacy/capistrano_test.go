package legacy

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParseCapistranoFixture(t *testing.T) {
	data, err := os.ReadFile("testdata/capistrano/deploy.rb")
	if err != nil {
		t.Fatal(err)
	}
	linked, err := ParseCapistrano("deploy.rb", data)
	if err != nil {
		t.Fatal(err)
	}
	var files, dirs []string
	for _, l := range linked {
		if l.Dir {
			dirs = append(dirs, l.Path)
		} else {
			files = append(files, l.Path)
		}
	}
	if !reflect.DeepEqual(files, []string{"config/database.yml", "config/master.key", ".env", "config/storage.yml"}) {
		t.Errorf("linked files %v", files)
	}
	if !reflect.DeepEqual(dirs, []string{"log", "tmp/pids", "tmp/cache", "tmp/sockets", "public/uploads", "vendor/bundle"}) {
		t.Errorf("linked dirs %v", dirs)
	}
	if linked[0].Line != 9 || linked[4].Line != 13 {
		t.Errorf("lines %d and %d, want 9 and 13", linked[0].Line, linked[4].Line)
	}
}

func TestParseCapistranoStatements(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"set replaces", "append :linked_files, 'a'\nset :linked_files, %w{b c}\n", []string{"b", "c"}},
		{"set with fetch appends", "set :linked_files, %w(a)\nset :linked_files, fetch(:linked_files, []).push(\"b\")", []string{"a", "b"}},
		{"continued by comma", "append :linked_files,\n  \"a\",\n  'b' # comment 'c'\n", []string{"a", "b"}},
		{"parenthesized", "append(:linked_files, 'a')", []string{"a"}},
		{"comment lines", "# set :linked_files, %w{x}\nset :linked_files, %w{a} # %w{y}", []string{"a"}},
		{"remove", "set :linked_files, %w{a b}\nremove :linked_files, 'a'", []string{"b"}},
		{"other settings", "set :keep_releases, 5\nset :linked_files_extra, 'no'", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			linked, err := ParseCapistrano("deploy.rb", []byte(tc.text))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range linked {
				got = append(got, l.Path)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	_, err := ParseCapistrano("deploy.rb", []byte("set :a, 1\nset :linked_dirs, %w[log\n tmp\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "deploy.rb:2: the %w list of linked_dirs is never closed") {
		t.Fatalf("error %v", err)
	}
}

func TestParseNameList(t *testing.T) {
	vars, err := ParseNameList("vars", []byte("# from env on web-01\nRAILS_ENV\nS3_BUCKET=shop\r\n\nSMTP_HOST\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(vars) != 3 || vars[1].Name != "S3_BUCKET" || vars[1].Value != "" || vars[2].Line != 5 {
		t.Fatalf("vars %+v", vars)
	}
	if _, err := ParseNameList("vars", []byte("OK\nnot a name\n")); err == nil || err.Error() != "vars:2: want a variable name (letters, digits, _ and ., not starting with a digit)" {
		t.Fatalf("error %v", err)
	}
}
