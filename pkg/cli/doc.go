// Package cli is spacecast's command line: one file per command, each with an options struct, its
// flags, and a runX function that tests call directly. It wires the library packages together and
// owns every user-facing message; it holds no media logic of its own.
package cli
