package edit

import "errors"

var (
	// ErrBadTime is returned for a string that is not a time in any accepted form.
	ErrBadTime = errors.New("not a time (use seconds like 754.5, MM:SS(.mmm), HH:MM:SS(.mmm) or 1h2m3s)")
	// ErrBadRange is returned for a range that is not START-END with START before END.
	ErrBadRange = errors.New("not a range (use START-END, e.g. 0-30 or 1:00-1:30.5)")
	// ErrOverlap is returned when ranges that must be disjoint overlap.
	ErrOverlap = errors.New("ranges overlap")
)
