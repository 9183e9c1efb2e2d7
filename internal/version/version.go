package version

import "runtime/debug"

// Version and Commit are set with -ldflags "-X ferry.dev/ferry/internal/version.Version=…".
var (
	Version = "dev"
	Commit  = ""
)

// Info is ferry's build identity.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	GoVersion string `json:"goVersion"`
}

// Get returns the build identity, falling back to the module's build info for the
// commit when the linker did not set one.
func Get() Info {
	info := Info{Version: Version, Commit: Commit}
	if bi, ok := debug.ReadBuildInfo(); ok {
		info.GoVersion = bi.GoVersion
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && info.Commit == "" {
				info.Commit = s.Value
			}
		}
	}
	return info
}
