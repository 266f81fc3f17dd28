// Package id3 reads ID3v2.2, v2.3 and v2.4 tags and writes ID3v2.3 tags with chapters.
//
// The specifications followed are "ID3 tag version 2.3.0" (id3.org, 1999), "ID3 tag version 2.4.0 -
// Main Structure" and "- Native Frames" (2000), the ID3v2.2 informal standard (1998), and the "ID3v2
// Chapter Frame Addendum" version 1.0 (2005) for CHAP and CTOC; comments name their sections.
//
// Marshal writes version 2.3 because it is what podcast players reliably read: Apple's own tools
// and podcast validators write v2.3, Windows Explorer and many car and set-top players still cannot
// read v2.4 (syncsafe frame sizes, UTF-8), and every v2.4 reader also reads v2.3. v2.3 has no UTF-8,
// so text that is not plain ASCII is written as UTF-16 with a byte order mark.
package id3
