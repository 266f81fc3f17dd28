// Package wav reads and writes RIFF/WAVE files (Microsoft's Multimedia Programming Interface and
// Data Specifications 1.0, and the WAVE_FORMAT_EXTENSIBLE addendum): integer PCM of 8 to 32 bits
// and IEEE float, as audio.Streams. No cgo.
package wav
