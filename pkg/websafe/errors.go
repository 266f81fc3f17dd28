package websafe

import (
	"errors"
	"fmt"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrUnsafeURL means a URL could run script or load something other than a web page, a
	// mail address or a file beside the page: javascript:, vbscript:, data:, file: and every
	// scheme but http, https and mailto.
	ErrUnsafeURL = errors.New("unsafe URL")
	// ErrUnsafeHTML means HTML still had active markup after cleaning: a bug in the allow-list,
	// refused rather than published.
	ErrUnsafeHTML = errors.New("unsafe HTML")
	// ErrNoText means an HTML transcript has no text left once what may not be published is
	// taken out: it was all script, style or markup.
	ErrNoText = errors.New("no text is left once scripts, styles and other active markup are taken out")
)

// URLError is a URL that may not be published, with its scheme ("" when it has none that can
// be named) or why it cannot be judged. It wraps ErrUnsafeURL.
type URLError struct {
	URL    string
	Scheme string
	Reason string
}

func (e *URLError) Error() string {
	if e.Scheme != "" {
		return fmt.Sprintf("%q is a %s: URL (links may only be http, https, mailto or relative)", clip(e.URL), e.Scheme)
	}
	return fmt.Sprintf("%q is not a safe URL: %s (links may only be http, https, mailto or relative)", clip(e.URL), e.Reason)
}

// Unwrap makes errors.Is(err, ErrUnsafeURL) true.
func (e *URLError) Unwrap() error { return ErrUnsafeURL }

// clip shortens a long value for a message.
func clip(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
