// Package cli is spacecast's command line: one file per command, each with an options struct, its
// flags, and a runX function that tests call directly. It wires the library packages together and
// owns every user-facing message; it holds no media logic of its own.
//
// Commands return errors. Their own flag checks go through usageErr; everything a library returns
// is read, in one place (Run), through the error table in errors.go, which gives the message, the
// hint naming the flag or command to use, and the exit status listed under EXIT STATUS. Libraries
// never name a flag (TestNoFlagNamesInLibraries).
package cli
