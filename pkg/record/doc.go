// Package record runs one recording from dial to sealed session: it picks the room adapter from
// the URL, joins the room, creates the session folder (package capture), tells the room it is
// recorded, takes pause and resume requests (from its caller and through its control socket),
// stops on the first stop condition (a duration, an empty stage, the room closing or lost, a
// recorder failure, Stop or the end of its context), then finalizes and seals the session.
//
// A Recording holds no globals, handles no signals and prints nothing: what happens reaches an
// Observer as typed events, and many recordings may run in one process, each with its own
// context.
package record
