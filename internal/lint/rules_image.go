package lint

import (
	"errors"
	"fmt"
	"strings"

	"ferry.dev/ferry/internal/render"
)

func checkImageTags(s *set, o *object) []problem {
	if o.pod == nil {
		return nil
	}
	var out []problem
	for _, c := range o.pod.containers() {
		if s.app[c.c.Name] || c.c.Image == "" {
			continue // ferry deploy sets the image of app containers
		}
		if err := render.CheckImmutable(c.c.Image); errors.Is(err, render.ErrMutableTag) {
			what := "has no tag"
			if strings.HasSuffix(c.c.Image, ":latest") {
				what = `uses the tag "latest"`
			}
			out = append(out, problem{c.field + ".image", fmt.Sprintf("container %s's image %s %s: pin an immutable tag or a digest", c.c.Name, c.c.Image, what)})
		}
	}
	return out
}

func checkDecodes(_ *set, o *object) []problem {
	if o.decodeErr == nil {
		return nil
	}
	return one("", "does not read as a %s: %s", o.ref.Kind, strings.Join(strings.Fields(o.decodeErr.Error()), " "))
}

func checkIgnoreList(_ *set, o *object) []problem {
	var out []problem
	for _, id := range ignoreList(o.u) {
		if _, ok := RuleByID(id); !ok {
			out = append(out, problem{"metadata.annotations", fmt.Sprintf("%s names %q, which is no rule", AnnotationIgnore, id)})
		}
	}
	return out
}
