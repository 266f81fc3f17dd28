// Package record runs one recording from dial to sealed session: it joins the room with the
// adapter of the URL's protocol (package protocols), creates the session folder (package
// capture), tells the room it is recorded, takes pause and resume requests (from its caller and
// through its control socket), stops on the first stop condition (a duration, an empty stage, the
// room closing or lost, a recorder failure, Stop or the end of its context), then finalizes and
// seals the session.
//
// A Recording holds no globals, handles no signals and prints nothing: what happens reaches an
// Observer as typed events, and many recordings may run in one process, each with its own
// context. Its errors (errors.go) carry the facts a caller needs to say what to change: the
// protocol of a room that could not be joined or was lost, the consent a mixed room cannot
// honour, the recorder's name in a room that could not be told it is recorded.
package record
