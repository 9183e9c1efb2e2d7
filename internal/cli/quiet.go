package cli

import (
	"log/slog"
	"sync"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/klog/v2"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// ownsLogs is the annotation of a command that logs (client-library lines included)
// as a server does, instead of keeping the terminal to ferry's own lines.
const ownsLogs = "ferry.dev/owns-logs"

// quietLibraries keeps the client libraries' own log lines — klog's from client-go
// (API warnings, retries, leader election) and controller-runtime's — off the
// terminal: a command prints its output and, on failure, its one error line. A
// command annotated ownsLogs sets its own logger instead (see routeLibraries).
//
// klog's logger may be set only before other goroutines log: the first command of
// the process sets it, once (commands run in one process in the tests, side by side).
func quietLibraries(cmd *cobra.Command) {
	if cmd.Annotations[ownsLogs] != "" {
		return
	}
	quietOnce.Do(func() {
		klog.SetLogger(logr.Discard())
		ctrllog.SetLogger(logr.Discard())
	})
}

var quietOnce sync.Once

// routeLibraries sends the client libraries' log lines to h, as structured lines
// among the command's own. controller-runtime takes the first logger it is given
// only.
func routeLibraries(h slog.Handler) {
	l := logr.FromSlogHandler(h)
	klog.SetLogger(l)
	ctrllog.SetLogger(l)
}
