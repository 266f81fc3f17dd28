package objstore

import (
	"os"

	"github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/middleware"
)

// envSecrets are the secrets of the environment, redacted from errors even before credentials are
// loaded (a configuration error may quote them).
func envSecrets() []string {
	var out []string
	for _, v := range []string{"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"} {
		out = appendSecret(out, os.Getenv(v))
	}
	return out
}

// appendSecret adds s to the secrets to redact unless it is empty or too short to be one (a
// one-letter "secret" would redact every word that has that letter).
func appendSecret(secrets []string, s string) []string {
	if len(s) < 6 {
		return secrets
	}
	return append(secrets, s)
}

// unsignedPayload sends a body unsigned (UNSIGNED-PAYLOAD) instead of reading it twice: its
// x-amz-checksum-sha256 header, which is signed, is what the store checks the bytes against.
var unsignedPayload = []func(*middleware.Stack) error{
	func(st *middleware.Stack) error { return v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware(st) },
}
