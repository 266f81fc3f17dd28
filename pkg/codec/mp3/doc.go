// Package mp3 reads the MPEG audio Layer III bitstream, decodes it gaplessly and cuts it without re-encoding.
//
// The bitstream half follows ISO/IEC 11172-3 (MPEG-1) and ISO/IEC 13818-3 (MPEG-2 and the unofficial
// MPEG-2.5 extension) and is cut along their sections: header.go (§2.4.1.3, §2.4.2.3), sideinfo.go
// (§2.4.1.7), crc.go (§2.4.2.4), tags.go (ID3v2/ID3v1/APE/Lyrics3 framing around the stream), xing.go
// (Xing/Info, LAME and VBRI tags, which are conventions, not part of the standard) and scan.go (the index).
//
// # Timeline convention
//
// A file's "sample 0" is the first sample a gapless decoder (ffmpeg, mpg123) plays. The raw decode of
// the audio frames (the Xing/Info/VBRI frame is metadata and is not audio) is trimmed at the start by
// File.Skip samples and cut to File.Samples in total:
//
//   - with a LAME tag, Skip = encoder delay + 529 (the decoder's filterbank delay) and
//     Samples = frames*spf - delay - padding, as ffmpeg and mpg123 do;
//   - without one, both decoders play every decoded sample, so Skip = 0 and Samples = frames*spf.
//     The real start of the programme is then unknown; File.DelayGuessed is set and the usual
//     LAME delay (576 + 529 samples) is only a guess that this package never applies.
//
// Every Range and sample count in this package is on that timeline.
//
// # Speed
//
// Measured on the shared 2-core development machine (go test -tags nolibopusfile -run XXX -bench .
// -benchmem ./pkg/codec/mp3/), ranges over runs under varying load: a 30 s clip from the
// middle of a 2-hour 128 kbit/s CBR file held in memory, Probe plus Cut, 1.4–1.9 ms; Scan of a
// 10-minute file, 3.7–6.8 ms (1.4–2.6 GB/s); decoding 44.1 kHz stereo, 38–85x real time
// (go-mp3's speed).
package mp3
