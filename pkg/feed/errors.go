package feed

import "errors"

// Sentinel errors; test with errors.Is. Errors that wrap them name the file, field or episode.
var (
	// ErrConfig marks every problem in podcast.yaml; the error itself is a *ConfigError or an
	// errors.Join of several.
	ErrConfig = errors.New("feed: podcast.yaml is not valid")
	// ErrArtwork means an image is not artwork Apple accepts: a square JPEG or PNG, 1400–3000 px,
	// in RGB.
	ErrArtwork = errors.New("feed: artwork is not a square 1400–3000 px RGB JPEG or PNG")
	// ErrEpisode means an episode record cannot go into a feed (no GUID, no date, no audio, a
	// soundbite outside the audio, a GUID used twice).
	ErrEpisode = errors.New("feed: episode cannot be published")
	// ErrShow means the Show given to Render lacks what every feed needs (title, base URL).
	ErrShow = errors.New("feed: show is incomplete")
	// ErrNotXML means the bytes given to Check are not well-formed XML in UTF-8.
	ErrNotXML = errors.New("feed: not well-formed XML")
	// ErrNoTitle means an episode record has no title (it wraps in ErrEpisode).
	ErrNoTitle = errors.New("no title")
	// ErrLongDescription means an episode's description is longer than Apple takes (it wraps in
	// ErrEpisode).
	ErrLongDescription = errors.New("the description is too long")
	// ErrChapters means a JSON chapters file is not Podcasting 2.0 JSON chapters.
	ErrChapters = errors.New("feed: not a JSON chapters file")
)
