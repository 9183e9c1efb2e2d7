package release_test

import (
	"time"

	"ferry.dev/ferry/internal/app"
)

var appPreDeploy = app.PreDeploy{FromDeployment: "web", Container: "web", Command: []string{"bin/rails", "db:migrate"}, Timeout: time.Minute}
