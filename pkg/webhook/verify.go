package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// How LiveKit signs a webhook (livekit/protocol webhook.URLNotifier.send, the same in v1.27 and
// v1.50): the body is protojson of a WebhookEvent; the Authorization header is a JWT (RFC 7519)
// in compact JWS serialization (RFC 7515 §7.1), HS256 with the API secret, issued (iss) by the API
// key, valid for 5 minutes (iat = nbf = now, exp = now+5m), whose "sha256" claim is the standard
// base64 of the body's SHA-256.
const (
	// maxTokenBytes bounds the Authorization header read: LiveKit's are about 300 bytes.
	maxTokenBytes = 4096
	// livekitValidFor is how long LiveKit's webhook tokens are valid (SetValidFor(5 * time.Minute)).
	livekitValidFor = 5 * time.Minute
)

// Claims are the checked claims of a webhook token.
type Claims struct {
	APIKey    string    // iss
	Expires   time.Time // exp
	BodySHA   [32]byte  // sha256, decoded
	Signature string    // the token's signature segment: one delivery's identity
}

// header is a JWS protected header (RFC 7515 §4.1).
type header struct {
	Alg  string          `json:"alg"`
	Typ  string          `json:"typ"`
	Crit json.RawMessage `json:"crit"`
}

// claims is the token's payload (RFC 7519 §4.1), numbers kept raw so a fraction or an overflow is
// seen rather than rounded away.
type claims struct {
	Iss    string      `json:"iss"`
	Exp    json.Number `json:"exp"`
	Nbf    json.Number `json:"nbf"`
	Iat    json.Number `json:"iat"`
	Sha256 string      `json:"sha256"`
}

// Verifier checks the signature of LiveKit webhooks.
type Verifier struct {
	keys   map[string][]byte
	leeway time.Duration
	// maxValid bounds exp-now: a token LiveKit signs is valid for 5 minutes.
	maxValid time.Duration
}

// Verify checks a webhook's Authorization header against its body at the time now: a compact
// HS256 JWT issued by a known API key, signed with that key's secret (compared in constant time),
// with exp in the future and nbf/iat in the past (each within the leeway), valid for no longer than
// LiveKit signs for, and whose sha256 claim is the body's SHA-256 (compared in constant time).
// A "Bearer " prefix is accepted, as LiveKit's own receiver does not need one but proxies add it.
func (v *Verifier) Verify(authorization string, body []byte, now time.Time) (Claims, error) {
	tok := strings.TrimSpace(authorization)
	if tok == "" {
		return Claims{}, ErrNoSignature
	}
	if len(tok) > maxTokenBytes {
		return Claims{}, fmt.Errorf("%w: token of %d bytes (at most %d)", ErrBadSignature, len(tok), maxTokenBytes)
	}
	if rest, ok := strings.CutPrefix(tok, "Bearer "); ok {
		tok = rest
	}
	// RFC 7515 §7.1: BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(signature).
	h64, rest, ok1 := strings.Cut(tok, ".")
	p64, s64, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(s64, ".") {
		return Claims{}, fmt.Errorf("%w: not a compact JWS (three dot-separated parts)", ErrBadSignature)
	}
	hb, err1 := b64url.DecodeString(h64)
	pb, err2 := b64url.DecodeString(p64)
	sig, err3 := b64url.DecodeString(s64)
	if err1 != nil || err2 != nil || err3 != nil {
		return Claims{}, fmt.Errorf("%w: a part is not base64url", ErrBadSignature)
	}
	var h header
	if err := strictJSON(hb, &h); err != nil {
		return Claims{}, fmt.Errorf("%w: header: %v", ErrBadSignature, err)
	}
	// Only HS256: "none" and the asymmetric algorithms (key confusion) are refused (RFC 8725 §3.1).
	if h.Alg != "HS256" {
		return Claims{}, fmt.Errorf("%w: algorithm %.20q (LiveKit signs HS256)", ErrBadSignature, h.Alg)
	}
	if h.Typ != "" && h.Typ != "JWT" {
		return Claims{}, fmt.Errorf("%w: type %.20q", ErrBadSignature, h.Typ)
	}
	// RFC 7515 §4.1.11: a critical extension we do not know must be refused.
	if len(h.Crit) > 0 {
		return Claims{}, fmt.Errorf("%w: critical header extensions", ErrBadSignature)
	}
	var c claims
	if err := strictJSON(pb, &c); err != nil {
		return Claims{}, fmt.Errorf("%w: claims: %v", ErrBadSignature, err)
	}
	secret, ok := v.keys[c.Iss]
	if !ok {
		return Claims{}, fmt.Errorf("%w %.64q", ErrUnknownKey, c.Iss)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(tok[:len(h64)+1+len(p64)]))
	if !hmac.Equal(mac.Sum(nil), sig) {
		return Claims{}, fmt.Errorf("%w: signature does not match API key %q's secret", ErrBadSignature, c.Iss)
	}

	// Signed by a key we know: now the times (RFC 7519 §4.1.4, §4.1.5, §4.1.6).
	exp, err := numericDate(c.Exp, true)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: exp: %v", ErrBadSignature, err)
	}
	nbf, err := numericDate(c.Nbf, false)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: nbf: %v", ErrBadSignature, err)
	}
	iat, err := numericDate(c.Iat, false)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: iat: %v", ErrBadSignature, err)
	}
	if !now.Before(exp.Add(v.leeway)) {
		return Claims{}, fmt.Errorf("%w at %s (now %s)", ErrExpired, exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	for _, t := range []time.Time{nbf, iat} {
		if !t.IsZero() && now.Add(v.leeway).Before(t) {
			return Claims{}, fmt.Errorf("%w until %s (now %s)", ErrNotYetValid, t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		}
	}
	if exp.Sub(now) > v.maxValid {
		return Claims{}, fmt.Errorf("%w: expires in %s (LiveKit signs for %s)", ErrTooLong, exp.Sub(now).Round(time.Second), livekitValidFor)
	}

	// The body is the one signed.
	want, err := base64.StdEncoding.Strict().DecodeString(c.Sha256)
	if err != nil || len(want) != sha256.Size {
		return Claims{}, fmt.Errorf("%w: sha256 claim is not the base64 of a SHA-256", ErrBodyHash)
	}
	got := sha256.Sum256(body)
	if subtle.ConstantTimeCompare(got[:], want) != 1 {
		return Claims{}, ErrBodyHash
	}
	return Claims{APIKey: c.Iss, Expires: exp, BodySHA: got, Signature: s64}, nil
}

// b64url is RFC 7515 §2's base64url without padding, refusing non-canonical trailing bits.
var b64url = base64.RawURLEncoding.Strict()

// strictJSON decodes one JSON object with nothing after it.
func strictJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return fmt.Errorf("data after the JSON object")
	}
	return nil
}

// numericDate reads an RFC 7519 §2 NumericDate (seconds since the epoch). Missing is zero, or an
// error when required.
func numericDate(n json.Number, required bool) (time.Time, error) {
	if n == "" {
		if required {
			return time.Time{}, fmt.Errorf("missing")
		}
		return time.Time{}, nil
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || f < 0 || f > 1<<40 {
		return time.Time{}, fmt.Errorf("%.24q is not a date", string(n))
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}
