package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	// UID is the user and group the image runs as, distroless' "nonroot".
	UID = 65532
	// Entrypoint is where the binary is.
	Entrypoint = "/ferry"
	// caPath is where Go on Linux looks for CA certificates first.
	caPath = "etc/ssl/certs/ca-certificates.crt"
)

// contents are the files that go into the image.
type contents struct {
	binary, caBundle []byte
}

// imageMeta is the image's configuration beyond its files.
type imageMeta struct {
	arch    string
	created time.Time
	labels  map[string]string
}

// entry is one file or directory of a layer.
type entry struct {
	path string
	mode int64
	uid  int
	data []byte
	dir  bool
}

// assemble puts the files on an empty base in two layers (the rarely changing base
// files, then the binary) and sets the user, entrypoint and labels. Every timestamp
// is meta.created and every owner fixed, so equal inputs give an equal digest.
func assemble(c contents, meta imageMeta) (v1.Image, error) {
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", UID, UID)
	group := fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", UID)
	base, err := layer(meta.created, []entry{
		{path: "etc", mode: 0o755, dir: true},
		{path: "etc/group", mode: 0o644, data: []byte(group)},
		{path: "etc/passwd", mode: 0o644, data: []byte(passwd)},
		{path: "etc/ssl", mode: 0o755, dir: true},
		{path: "etc/ssl/certs", mode: 0o755, dir: true},
		{path: caPath, mode: 0o644, data: c.caBundle},
		{path: "home", mode: 0o755, dir: true},
		{path: "home/nonroot", mode: 0o700, uid: UID, dir: true},
		{path: "tmp", mode: 0o1777, dir: true},
	})
	if err != nil {
		return nil, err
	}
	bin, err := layer(meta.created, []entry{{path: Entrypoint[1:], mode: 0o755, data: c.binary}})
	if err != nil {
		return nil, err
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	at := v1.Time{Time: meta.created}
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: base, History: v1.History{Created: at, CreatedBy: "hack/image: CA certificates, /etc/passwd with nonroot (65532)"}},
		mutate.Addendum{Layer: bin, History: v1.History{Created: at, CreatedBy: "hack/image: the static ferry binary at " + Entrypoint}},
	)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Created = "linux", meta.arch, at
	cf.Config = v1.Config{
		User:       fmt.Sprintf("%d:%d", UID, UID),
		Entrypoint: []string{Entrypoint},
		WorkingDir: "/home/nonroot",
		Env:        []string{"HOME=/home/nonroot", "SSL_CERT_FILE=/" + caPath},
		Labels:     meta.labels,
	}
	return mutate.ConfigFile(img, cf)
}

// layer is a gzipped tar of entries, in the order given, owned by root unless said.
func layer(created time.Time, entries []entry) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.path, Mode: e.mode, Uid: e.uid, Gid: e.uid, ModTime: created, Format: tar.FormatPAX}
		if e.dir {
			h.Typeflag, h.Name = tar.TypeDir, e.path+"/"
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		tarball.WithMediaType(types.OCILayer))
}

// write replaces the output: an OCI image layout holding the one image (its
// descriptor annotated with the name), and a tarball. It returns the digest.
func write(img v1.Image, res Result, tag string) (string, error) {
	digest, err := img.Digest()
	if err != nil {
		return "", err
	}
	ref, err := name.NewTag(res.Name)
	if err != nil {
		return "", fmt.Errorf("image name %s: %w", res.Name, err)
	}
	if err := os.RemoveAll(res.Layout); err != nil {
		return "", err
	}
	p, err := layout.Write(res.Layout, empty.Index)
	if err != nil {
		return "", fmt.Errorf("write the OCI layout: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return "", err
	}
	err = p.AppendImage(img,
		layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": tag, "io.containerd.image.name": res.Name}),
		layout.WithPlatform(v1.Platform{OS: cf.OS, Architecture: cf.Architecture}))
	if err != nil {
		return "", fmt.Errorf("write the OCI layout: %w", err)
	}
	if err := tarball.WriteToFile(res.Tarball, ref, img); err != nil {
		return "", fmt.Errorf("write the tarball: %w", err)
	}
	return digest.String(), nil
}
