package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
)

func main() {
	cfg := Config{}
	flag.StringVar(&cfg.Root, "root", ".", "the module's root directory (the ferry checkout)")
	flag.StringVar(&cfg.Out, "out", filepath.Join("bin", "image"), "where to write the OCI layout (oci/) and the tarball (ferry.tar), relative to -root")
	flag.StringVar(&cfg.Repository, "repository", "", "the image's repository (default: image.repository of the Helm chart's values.yaml)")
	flag.StringVar(&cfg.Tag, "tag", "", "the image's tag (default: appVersion of the Helm chart's Chart.yaml)")
	flag.StringVar(&cfg.Source, "source", DefaultSource, "the org.opencontainers.image.source label")
	flag.StringVar(&cfg.Arch, "arch", runtime.GOARCH, "the image's CPU architecture (GOARCH)")
	flag.StringVar(&cfg.CABundle, "ca-bundle", DefaultCABundle, "the CA certificates to put in the image")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "image: no arguments expected")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := Build(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "image: %s (version %s, revision %s)\n  OCI layout %s\n  tarball    %s\n", res.Name, res.Version, res.Revision, res.Layout, res.Tarball)
	fmt.Println(res.Digest)
}
