package legacy

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParseDotenvFixture(t *testing.T) {
	data, err := os.ReadFile("testdata/env/production.env")
	if err != nil {
		t.Fatal(err)
	}
	vars, notes, err := ParseDotenv("production.env", data)
	if err != nil || len(notes) != 0 {
		t.Fatalf("err %v notes %v", err, notes)
	}
	got := map[string]Var{}
	for _, v := range vars {
		got[v.Name] = v
	}
	if len(vars) != 25 {
		t.Errorf("%d variables, want 25", len(vars))
	}
	for name, want := range map[string]string{
		"APP_HOST":         "shop.example.com",
		"ASSET_HOST":       "https://assets.example.com",
		"RAILS_MASTER_KEY": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
		"SIDEKIQ_AUTH":     "mail-pa55-word",
		"MAILER_FROM":      "Shop <no-reply@shop.example.com>",
		"WELCOME_TEXT":     "Hello,\nwelcome to the shop",
		"FEATURE_FLAGS":    "checkout_v2,$not_expanded",
	} {
		if got[name].Value != want {
			t.Errorf("%s = %q, want %q", name, got[name].Value, want)
		}
	}
	if got["DATABASE_URL"].Line != 14 || !reflect.DeepEqual(got["SIDEKIQ_AUTH"].Refs, []string{"SMTP_PASSWORD"}) {
		t.Errorf("DATABASE_URL line %d, SIDEKIQ_AUTH refs %v", got["DATABASE_URL"].Line, got["SIDEKIQ_AUTH"].Refs)
	}
}

func TestParseDotenvSyntax(t *testing.T) {
	for _, tc := range []struct {
		name  string
		text  string
		want  map[string]string
		notes []string
	}{
		{"plain", "A=1\nB = two words \nC=\n", map[string]string{"A": "1", "B": "two words", "C": ""}, nil},
		{"export and comments", "# c\nexport A=1 # trailing\n\texport\tB=x#y\n", map[string]string{"A": "1", "B": "x#y"}, nil},
		{"single quotes are literal", `A='a \n $B "q"' # c`, map[string]string{"A": `a \n $B "q"`}, nil},
		{"double quote escapes", `A="tab\tq\"b\\s\$x"`, map[string]string{"A": "tab\tq\"b\\s$x"}, nil},
		{"multi-line double", "A=\"line 1\nline 2\"\nB=3", map[string]string{"A": "line 1\nline 2", "B": "3"}, nil},
		{"multi-line single", "KEY='-----BEGIN KEY-----\nabc\n-----END KEY-----'\n", map[string]string{"KEY": "-----BEGIN KEY-----\nabc\n-----END KEY-----"}, nil},
		{"expansion", "H=host\nU=http://${H}:$PORT/x\nV=\\$H", map[string]string{"H": "host", "U": "http://host:/x", "V": "$H"}, []string{"U refers to PORT"}},
		{"lone dollar", "A=cost $ 5$", map[string]string{"A": "cost $ 5$"}, nil},
		{"command substitution", "A=$(whoami)", map[string]string{"A": "$(whoami)"}, []string{"A uses $(...)"}},
		{"duplicate", "A=1\nB=2\nA=3", map[string]string{"A": "3", "B": "2"}, []string{"A is set again (first at line 1)"}},
		{"CRLF and BOM", "\ufeffA=1\r\nB=\"x\"\r\n", map[string]string{"A": "1", "B": "x"}, nil},
		{"dots in names", "spring.datasource.url=jdbc:x", map[string]string{"spring.datasource.url": "jdbc:x"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars, notes, err := ParseDotenv("f", []byte(tc.text))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, v := range vars {
				got[v.Name] = v.Value
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if len(notes) != len(tc.notes) {
				t.Fatalf("notes %v, want %v", notes, tc.notes)
			}
			for i, n := range notes {
				if !strings.Contains(n.Message, tc.notes[i]) {
					t.Errorf("note %q, want %q", n.Message, tc.notes[i])
				}
			}
		})
	}
}

func TestParseDotenvErrorsNameTheLineButNotTheValue(t *testing.T) {
	const secret = "hunter2-very-secret"
	for _, tc := range []struct {
		name, text, want string
	}{
		{"no equals sign", "A=1\n" + secret + "\n", "f:2: want NAME=VALUE"},
		{"bad name", "\n\n1A=" + secret, "f:3: the text before = is not a variable name"},
		{"name with a space", "MY KEY=" + secret, "f:1: the text before = is not a variable name"},
		{"unclosed double quote", "A=1\nB=\"" + secret + "\nC=2\n", "f:2: B: the quoted value is never closed"},
		{"unclosed single quote", "B='" + secret, "f:1: B: the quoted value is never closed"},
		{"text after the quote", `B="` + secret + `" trailing` + secret, "f:1: B: unexpected text after the closing quote"},
		{"not UTF-8", "B=" + secret + "\xff", "f:1: B: the value is not UTF-8 text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ParseDotenv("f", []byte(tc.text))
			var pe *PositionError
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) || !errors.As(err, &pe) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("the error quotes the value: %v", err)
			}
		})
	}
}

func TestSplitFollowsReferencesAndFlags(t *testing.T) {
	vars := []Var{
		{Name: "DB_PASSWORD", Value: "pw"},
		{Name: "DB_USER", Value: "shop"},
		{Name: "DB_CONN", Value: "shop pw", Refs: []string{"DB_USER", "DB_PASSWORD"}},
		{Name: "PUBLIC_KEY_URL", Value: "https://x"},
		{Name: "LICENSE", Value: "abc"},
	}
	placed := Split(vars, EnvConfig{Config: []string{"PUBLIC_KEY_URL"}, Secrets: []string{"LICENSE"}})
	var secret []string
	for _, p := range placed {
		if p.Secret {
			secret = append(secret, p.Name)
		}
	}
	if !reflect.DeepEqual(secret, []string{"DB_PASSWORD", "DB_CONN", "LICENSE"}) {
		t.Fatalf("secret %v", secret)
	}
	if placed[2].Reason != "the value expands the secret DB_PASSWORD" {
		t.Errorf("reason %q", placed[2].Reason)
	}
	cm, s, err := EnvObjects(vars, placed, EnvConfig{ConfigMap: "web-env", Secret: "web-secrets", Namespace: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	if d := cm.Object["data"].(map[string]any); len(d) != 2 || d["DB_USER"] != "shop" || cm.GetNamespace() != "shop" {
		t.Errorf("ConfigMap %v", cm.Object)
	}
	if d := s.Object["stringData"].(map[string]any); len(d) != 3 || d["LICENSE"] != "abc" || s.Object["type"] != "Opaque" {
		t.Errorf("Secret %v", s.Object)
	}
	if got := SecretKeys(placed); !reflect.DeepEqual(got, []string{"DB_CONN", "DB_PASSWORD", "LICENSE"}) {
		t.Errorf("SecretKeys %v", got)
	}
}
