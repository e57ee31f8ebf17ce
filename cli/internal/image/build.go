package image

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"
)

// Set maps a controller's name to its image index, which holds one image per platform.
type Set map[string]v1.ImageIndex

// Names returns the controllers of s in a fixed order.
func (s Set) Names() []string { return slices.Sorted(maps.Keys(s)) }

// Build compiles the controllers of o for each platform and assembles their images. The
// images live in memory: the binaries are removed when Build returns.
func Build(ctx context.Context, o Options) (Set, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	base, err := baseLayer(o.Created)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "weir-images-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	adds := map[string][]mutate.IndexAddendum{}
	for _, p := range o.Platforms {
		start := time.Now()
		bin, err := compile(ctx, o, p, dir)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(o.Out, "go build %s %v: %s\n", p, o.Controllers, time.Since(start).Round(time.Millisecond))
		images := make([]v1.Image, len(o.Controllers))
		// Compressing a binary takes longer than anything else here: one per CPU.
		g, gctx := errgroup.WithContext(ctx)
		for i, c := range o.Controllers {
			g.Go(func() error {
				if err := gctx.Err(); err != nil {
					return err
				}
				img, err := controllerImage(o, p, c, base, filepath.Join(bin, c))
				images[i] = img
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		for i, c := range o.Controllers {
			adds[c] = append(adds[c], mutate.IndexAddendum{
				Add:        images[i],
				Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: p.OS, Architecture: p.Arch}},
			})
		}
	}
	set := Set{}
	for c, a := range adds {
		set[c] = mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), a...)
	}
	return set, nil
}

// controllerImage assembles the image of controller c for platform p: the base layer, then
// the binary at /<c>, run as the nonroot user.
func controllerImage(o Options, p Platform, c string, base v1.Layer, binary string) (v1.Image, error) {
	data, err := os.ReadFile(binary)
	if err != nil {
		return nil, err
	}
	bin, err := newLayer([]entry{{name: c, mode: 0o755, data: data}}, o.Created)
	if err != nil {
		return nil, err
	}
	cfg := &v1.ConfigFile{
		Created:      v1.Time{Time: o.Created},
		OS:           p.OS,
		Architecture: p.Arch,
		Config: v1.Config{
			User:       fmt.Sprintf("%d:%d", nonroot, nonroot),
			Entrypoint: []string{"/" + c},
			WorkingDir: "/",
			Labels:     labels(o, c),
		},
		RootFS: v1.RootFS{Type: "layers"},
	}
	img, err := mutate.ConfigFile(mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON), cfg)
	if err != nil {
		return nil, err
	}
	return mutate.Append(img,
		mutate.Addendum{Layer: base, History: history(o.Created, "weir: base files (users, CA bundle, /tmp)")},
		mutate.Addendum{Layer: bin, History: history(o.Created, "weir: /"+c+" built by go build")})
}

func history(created time.Time, by string) v1.History {
	return v1.History{Created: v1.Time{Time: created}, CreatedBy: by}
}

// labels are the OCI annotations of the image's config; Source and Revision only when known.
func labels(o Options, c string) map[string]string {
	l := map[string]string{
		"org.opencontainers.image.title":   c,
		"org.opencontainers.image.version": o.Version,
		"org.opencontainers.image.created": o.Created.Format(time.RFC3339),
	}
	if o.Source != "" {
		l["org.opencontainers.image.source"] = o.Source
	}
	if o.Revision != "" {
		l["org.opencontainers.image.revision"] = o.Revision
	}
	return l
}
