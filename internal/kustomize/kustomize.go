package kustomize

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/manifest"
)

// Annotations kustomize writes when origin tracking is on.
const (
	OriginAnnotation          = "config.kubernetes.io/origin"
	TransformationsAnnotation = "alpha.config.kubernetes.io/transformations"
)

// ErrEscapes is returned for a path that would leave the repository.
var ErrEscapes = errors.New("path leaves the repository")

// Object is one object of a kustomize build.
type Object struct {
	// Root is the kustomization directory, relative to the repository.
	Root string
	// Node is the rendered object, without kustomize's tracking
	// annotations.
	Node *yaml.RNode
	Ref  finding.ObjectRef
	// Origin is the repository-relative file the object was read from;
	// empty for generated objects (ConfigMapGenerator…), whose
	// GeneratedBy names the kustomization that made them.
	Origin      string
	GeneratedBy string
	// Transformers lists, in order, the transformers that changed the
	// object and the kustomization that configured each:
	// "overlays/prod/kustomization.yaml: PatchTransformer".
	Transformers []string
}

// Roots lists the kustomization directories below repo (relative, with
// forward slashes), skipping hidden directories.
func Roots(repo string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(repo, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != repo && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if slices.Contains(konfig.RecognizedKustomizationFileNames(), d.Name()) {
			rel, err := filepath.Rel(repo, filepath.Dir(p))
			if err != nil {
				return err
			}
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	slices.Sort(out)
	return slices.Compact(out), err
}

// Build renders the kustomization at root (relative to repo) with origin
// tracking. Remote resources and plugins are not loaded; files outside the
// repository cannot be read.
func Build(repo, root string) ([]Object, error) {
	absRepo, err := filepath.Abs(repo)
	if err != nil {
		return nil, err
	}
	dir, err := within(absRepo, root)
	if err != nil {
		return nil, err
	}
	opts := krusty.MakeDefaultOptions()
	opts.LoadRestrictions = types.LoadRestrictionsNone // confined to the repository by the filesystem below
	k := krusty.MakeKustomizer(opts)
	m, err := k.Run(&trackingFS{FileSystem: filesys.MakeFsOnDisk(), repo: absRepo, root: dir}, dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", root, err)
	}
	var out []Object
	for _, r := range m.Resources() {
		n, err := yaml.Parse(r.MustYaml())
		if err != nil {
			return nil, fmt.Errorf("kustomize build %s: %w", root, err)
		}
		o := Object{Root: filepath.ToSlash(root), Node: n}
		if err := o.readAnnotations(absRepo, dir); err != nil {
			return nil, fmt.Errorf("kustomize build %s: %w", root, err)
		}
		ref, ok := manifest.ObjectRefOf(n)
		if !ok {
			continue
		}
		o.Ref = ref
		out = append(out, o)
	}
	return out, nil
}

// readAnnotations turns kustomize's tracking annotations into fields and
// removes them from the node.
func (o *Object) readAnnotations(repo, dir string) error {
	anns := o.Node.GetAnnotations()
	if s, ok := anns[OriginAnnotation]; ok {
		var origin struct {
			Path         string `yaml:"path"`
			Repo         string `yaml:"repo"`
			ConfiguredIn string `yaml:"configuredIn"`
		}
		if err := yaml.Unmarshal([]byte(s), &origin); err != nil {
			return fmt.Errorf("origin annotation: %w", err)
		}
		switch {
		case origin.Repo != "":
			// A remote resource: nothing in this repository to edit.
		case origin.Path != "":
			rel, err := relative(repo, filepath.Join(dir, origin.Path))
			if err != nil {
				return err
			}
			o.Origin = rel
		case origin.ConfiguredIn != "":
			rel, err := relative(repo, filepath.Join(dir, origin.ConfiguredIn))
			if err != nil {
				return err
			}
			o.GeneratedBy = rel
		}
	}
	if s, ok := anns[TransformationsAnnotation]; ok {
		var ts []struct {
			ConfiguredIn string `yaml:"configuredIn"`
			ConfiguredBy struct {
				Kind string `yaml:"kind"`
			} `yaml:"configuredBy"`
		}
		if err := yaml.Unmarshal([]byte(s), &ts); err != nil {
			return fmt.Errorf("transformations annotation: %w", err)
		}
		for _, t := range ts {
			in, err := relative(repo, filepath.Join(dir, t.ConfiguredIn))
			if err != nil {
				return err
			}
			o.Transformers = append(o.Transformers, in+": "+t.ConfiguredBy.Kind)
		}
	}
	for _, a := range []string{OriginAnnotation, TransformationsAnnotation} {
		if _, err := o.Node.Pipe(yaml.ClearAnnotation(a)); err != nil {
			return err
		}
	}
	if len(o.Node.GetAnnotations()) == 0 {
		_, _ = o.Node.Pipe(yaml.Lookup("metadata"), yaml.Clear("annotations"))
	}
	return nil
}

// within joins rel to repo, refusing paths that leave it.
func within(repo, rel string) (string, error) {
	if filepath.IsAbs(rel) {
		return "", fmt.Errorf("%s: %w", rel, ErrEscapes)
	}
	p := filepath.Join(repo, rel)
	if _, err := relative(repo, p); err != nil {
		return "", err
	}
	return p, nil
}

// relative returns p relative to repo with forward slashes, refusing paths
// outside it (symbolic links included).
func relative(repo, p string) (string, error) {
	real, err := filepath.EvalSymlinks(p)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if err != nil {
		real = filepath.Clean(p)
	}
	realRepo, err := filepath.EvalSymlinks(repo)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(realRepo, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s: %w", p, ErrEscapes)
	}
	return path.Clean(filepath.ToSlash(rel)), nil
}

// trackingFS reads the repository for kustomize: it refuses files outside
// the repository and adds origin and transformer tracking to the root
// kustomization.
type trackingFS struct {
	filesys.FileSystem
	repo, root string
}

func (f *trackingFS) ReadFile(p string) ([]byte, error) {
	if _, err := relative(f.repo, p); err != nil {
		return nil, err
	}
	b, err := f.FileSystem.ReadFile(p)
	if err != nil || filepath.Dir(p) != f.root || !slices.Contains(konfig.RecognizedKustomizationFileNames(), filepath.Base(p)) {
		return b, err
	}
	return withTracking(b)
}

// withTracking adds originAnnotations and transformerAnnotations to a
// kustomization's buildMetadata, keeping what is there.
func withTracking(b []byte) ([]byte, error) {
	n, err := yaml.Parse(string(b))
	if err != nil {
		return b, nil // kustomize reports the error itself
	}
	var have []string
	if bm := n.Field("buildMetadata"); bm != nil {
		for _, e := range bm.Value.YNode().Content {
			have = append(have, e.Value)
		}
	}
	for _, want := range []string{types.OriginAnnotations, types.TransformerAnnotations} {
		if !slices.Contains(have, want) {
			have = append(have, want)
		}
	}
	if err := n.PipeE(yaml.SetField("buildMetadata", yaml.NewListRNode(have...))); err != nil {
		return nil, err
	}
	s, err := n.String()
	return []byte(s), err
}
