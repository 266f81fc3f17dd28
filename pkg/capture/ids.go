package capture

import (
	"github.com/google/uuid"

	"github.com/spacecast/spacecast/internal/textutil"
)

// trackSlug is the part of a track file's name that says whose it is: the identity as a slug
// (textutil.Slug, the site's too), "speaker" when nothing of it is left. The manifest records
// each file's name, so readers never derive it.
func trackSlug(identity string) string {
	if s := textutil.Slug(identity, 40); s != "" {
		return s
	}
	return "speaker"
}

// newID is a session's ID: a random (version 4) UUID.
func newID() string { return uuid.NewString() }
