package legacy

import (
	"strings"
	"testing"
)

func TestClassifyByName(t *testing.T) {
	for _, tc := range []struct {
		name   string
		secret bool
	}{
		// Words that name a secret, wherever they stand.
		{"SECRET_KEY_BASE", true},
		{"RAILS_MASTER_KEY", true},
		{"APP_KEY", true},
		{"STRIPE_API_KEY", true},
		{"STRIPE_SK", true},
		{"GITHUB_TOKEN", true},
		{"DB_PASSWORD", true},
		{"DB_PASS", true},
		{"PGPASSWORD", true},
		{"MYSQL_PWD", true},
		{"GPG_PASSPHRASE", true},
		{"SESSION_SALT", true},
		{"SENTRY_DSN", true},
		{"GOOGLE_CREDENTIALS", true},
		{"GCP_CREDS", true},
		{"JWT_PRIVATE_PEM", true},
		{"JWT_SIGNING", true},
		{"JWT_SIGNING_KEY", true},
		{"HTTP_BASIC_AUTH", true},
		{"REDIS_AUTH", true},
		{"SIDEKIQ_AUTH", true},
		{"OAUTH_CLIENT_SECRET", true},
		{"SESSION_COOKIE", true},
		{"COOKIE_SIGNATURE", true},
		{"SLACK_WEBHOOK_URL", true},
		{"DISCORD_WEBHOOK", true},
		{"SSL_CERT", true},
		{"TLS_CERTIFICATE", true},
		{"HMAC_KEY", true},
		{"AWS_SECRET_ACCESS_KEY", true},
		{"AWS_ACCESS_KEY_ID", true},
		{"NEW_RELIC_LICENSE_KEY", true},
		{"ENCRYPTION_KEY", true},
		{"PEPPER", true},
		{"APIKEY", true},
		{"SLACKTOKEN", true},
		{"AUTHTOKEN", true},
		{"DBPASSWORD", true},
		{"cookie.secret", true},
		{"spring.datasource.password", true},
		{"apiKey", true},
		{"sessionSecret", true},
		{"dbPassword", true},
		// Setting words after a loose one (session, cookie, auth, …) name a setting.
		{"SESSION_DRIVER", false},
		{"SESSION_LIFETIME", false},
		{"SESSION_COOKIE_NAME", false},
		{"SESSION_SECURE_COOKIE", true},
		{"AUTH_ENABLED", false},
		{"JWT_TTL", false},
		{"JWT_ALGORITHM", false},
		{"WEBHOOK_TIMEOUT", false},
		{"SSL_CERT_PATH", false},
		// Words that only contain a secret word, and plain settings.
		{"PORT", false},
		{"RAILS_ENV", false},
		{"APP_NAME", false},
		{"LOG_LEVEL", false},
		{"KEYBOARD_LAYOUT", false},
		{"KEYCLOAK_URL", false},
		{"PASSENGER_MAX_POOL", false},
		{"TOKENIZER", false},
		{"BYPASS_CACHE", false},
		{"TASK_QUEUE", false},
		{"DESK_ID", false},
		{"AUTHOR", false},
		{"SKU_PREFIX", false},
		{"S3_BUCKET", false},
		{"SMTP_HOST", false},
		{"WEB_CONCURRENCY", false},
		{"RAILS_MAX_THREADS", false},
		{"MAILER_FROM", false},
		{"CLIENT_ID", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, why := Classify(tc.name, "x"); got != tc.secret {
				t.Errorf("Classify(%s) = %v (%s), want %v", tc.name, got, why, tc.secret)
			}
		})
	}
}

func TestClassifyByValue(t *testing.T) {
	for _, tc := range []struct {
		value  string
		secret bool
		why    string
	}{
		{"postgres://shop:pw@db/shop", true, "password"},
		{"redis://:pw@redis:6379/0", true, "password"},
		{"user:pw@tcp(db:3306)/shop", true, "user:password@"},
		{"https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/42", true, "token"},
		{"https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/abcdEFGHijklMNOPqrstUVWX", true, "token in its path"},
		{"https://discord.com/api/webhooks/123/aBcD-eFgH_iJkL", true, "token in its path"},
		{"https://api.example.com/v1?access_token=abc", true, "access_token"},
		{"https://chat.googleapis.com/v1/spaces/X/messages?key=AIza&token=xyz", true, "key"},
		{"https://bucket.s3.amazonaws.com/f?X-Amz-Signature=abc", true, "X-Amz-Signature"},
		{"https://acct.blob.core.windows.net/c?sv=2022&sig=abc", true, "sig="},
		{"sk_live_4eC39HqLyjWDarjtT1zdp7dc", true, "token"},
		{"xoxb-1234-5678-abcdefgh", true, "token"},
		{"ghp_16C7e42F292c6912E7710c838347Ae178B4a", true, "token"},
		{"AKIAIOSFODNN7EXAMPLE", true, "token"},
		{"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", true, "token"},
		{"3f1d9c0b7e5a4d2c8b6a9e7f1c3d5b7a9e1f3c5d7b9a1e3f5c7d9b1a3e5f7c9d", true, "token"},
		{"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", true, "token"},
		{"q8ZrT2vLx9NpB4sKwE7mYc", true, "token"},
		{"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", true, "PEM"},
		{"Bearer abc.def", true, "Authorization"},
		{"production", false, ""},
		{"8080", false, ""},
		{"true", false, ""},
		{"shop.example.com", false, ""},
		{"https://assets.example.com", false, ""},
		{"https://example.com/search?page=2", false, ""},
		{"postgres://db.internal:5432/shop", false, ""},
		{"redis://redis.internal:6379/0", false, ""},
		{"db-prod-01.cluster-abc123xyz.ap-northeast-1.rds.amazonaws.com", false, ""},
		{"shop-production-uploads", false, ""},
		{"Shop <no-reply@shop.example.com>", false, ""},
		{"Hello,\nwelcome to the shop", false, ""},
		{"checkout_v2,$not_expanded", false, ""},
		{"/var/www/shop/shared/storage", false, ""},
		{"feature_flag_checkout_v2", false, ""},
		{"12345678901234567890", false, ""},
		{"", false, ""},
	} {
		t.Run(tc.value, func(t *testing.T) {
			got, why := Classify("SETTING", tc.value)
			if got != tc.secret || tc.secret && !strings.Contains(why, tc.why) {
				t.Errorf("Classify(SETTING, %q) = %v (%s), want %v (%s)", tc.value, got, why, tc.secret, tc.why)
			}
			if strings.Contains(why, tc.value) && tc.value != "" {
				t.Errorf("the reason quotes the value: %s", why)
			}
		})
	}
}
