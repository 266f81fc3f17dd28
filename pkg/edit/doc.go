// Package edit holds the time arithmetic of editing: parsing times and ranges the way users type
// them, and the map from an input's timeline to an output's after cuts.
package edit
