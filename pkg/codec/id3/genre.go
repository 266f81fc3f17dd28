package id3

import "strconv"

// genreName resolves a v2.3 TCON content type: "(n)" or "n" refers to an ID3v1 genre, "(n)Text" is
// refined by Text, and "((" escapes a literal parenthesis (ID3v2.3.0 §4.2.1 TCON). Unknown numbers
// and plain text are returned as they are.
func genreName(s string) string {
	if len(s) > 1 && s[0] == '(' && s[1] == '(' {
		return s[1:]
	}
	num, rest := s, ""
	if len(s) > 2 && s[0] == '(' {
		for i := 1; i < len(s); i++ {
			if s[i] == ')' {
				num, rest = s[1:i], s[i+1:]
				break
			}
		}
	}
	if rest != "" {
		return rest
	}
	if n, err := strconv.Atoi(num); err == nil && n >= 0 && n < len(id3v1Genres) && isDigits(num) {
		return id3v1Genres[n]
	}
	switch num {
	case "RX":
		return "Remix"
	case "CR":
		return "Cover"
	}
	return s
}

// id3v1Genres are the 80 genres of the ID3v1 specification (ID3v2.3.0 appendix A).
var id3v1Genres = []string{
	"Blues", "Classic Rock", "Country", "Dance", "Disco", "Funk", "Grunge", "Hip-Hop", "Jazz", "Metal",
	"New Age", "Oldies", "Other", "Pop", "R&B", "Rap", "Reggae", "Rock", "Techno", "Industrial",
	"Alternative", "Ska", "Death Metal", "Pranks", "Soundtrack", "Euro-Techno", "Ambient", "Trip-Hop", "Vocal", "Jazz+Funk",
	"Fusion", "Trance", "Classical", "Instrumental", "Acid", "House", "Game", "Sound Clip", "Gospel", "Noise",
	"AlternRock", "Bass", "Soul", "Punk", "Space", "Meditative", "Instrumental Pop", "Instrumental Rock", "Ethnic", "Gothic",
	"Darkwave", "Techno-Industrial", "Electronic", "Pop-Folk", "Eurodance", "Dream", "Southern Rock", "Comedy", "Cult", "Gangsta",
	"Top 40", "Christian Rap", "Pop/Funk", "Jungle", "Native American", "Cabaret", "New Wave", "Psychadelic", "Rave", "Showtunes",
	"Trailer", "Lo-Fi", "Tribal", "Acid Punk", "Acid Jazz", "Polka", "Retro", "Musical", "Rock & Roll", "Hard Rock",
}
