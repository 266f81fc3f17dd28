package webhook

import "errors"

// Why a request was refused. Handler answers each with its HTTP status (see statusOf).
var (
	// ErrNoSignature: the request has no Authorization header.
	ErrNoSignature = errors.New("webhook: no Authorization header (LiveKit signs every webhook)")
	// ErrBadSignature: the token is not a well-formed HS256 JWT whose signature matches the secret.
	ErrBadSignature = errors.New("webhook: bad signature")
	// ErrUnknownKey: the token's issuer is not one of the configured API keys.
	ErrUnknownKey = errors.New("webhook: unknown API key")
	// ErrExpired: the token's exp lies in the past (beyond the leeway).
	ErrExpired = errors.New("webhook: token expired")
	// ErrNotYetValid: the token's nbf or iat lies in the future (beyond the leeway).
	ErrNotYetValid = errors.New("webhook: token not yet valid")
	// ErrTooLong: the token is valid for longer than LiveKit ever signs for, so a replay could
	// outlive the memory of seen events.
	ErrTooLong = errors.New("webhook: token valid for too long")
	// ErrBodyHash: the token's sha256 claim does not match the body.
	ErrBodyHash = errors.New("webhook: body does not match the signed sha256")
	// ErrTooLarge: the body is longer than the limit.
	ErrTooLarge = errors.New("webhook: body too large")
	// ErrMalformed: the body is not a LiveKit webhook event, or one of its fields is out of bounds.
	ErrMalformed = errors.New("webhook: malformed event")
	// ErrMethod: the request is not a POST.
	ErrMethod = errors.New("webhook: method not allowed (POST only)")
	// ErrContentType: the body is not declared as JSON.
	ErrContentType = errors.New("webhook: content type is not JSON")
	// ErrEnqueue: the enqueuer failed; LiveKit retries on the 503 this gives.
	ErrEnqueue = errors.New("webhook: enqueue failed")
	// ErrConfig: the Config cannot work (no keys, an empty secret, a bad name pattern).
	ErrConfig = errors.New("webhook: bad configuration")
)
