package session

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// SignatureAlgorithm is the only algorithm of manifest.json.sig.
const SignatureAlgorithm = "ed25519"

// Signature is a detached signature of manifest.json's exact bytes. On disk it is JSON:
//
//	{"algorithm": "ed25519", "public_key": "<base64, 32 bytes>", "signature": "<base64, 64 bytes>"}
type Signature struct {
	PublicKey ed25519.PublicKey
	Signature []byte
}

type signatureJSON struct {
	Algorithm string `json:"algorithm"`
	PublicKey string `json:"public_key"`
	Signature string `json:"signature"`
}

// Sign signs msg (a manifest's exact bytes) with key.
func Sign(key ed25519.PrivateKey, msg []byte) Signature {
	return Signature{PublicKey: key.Public().(ed25519.PublicKey), Signature: ed25519.Sign(key, msg)}
}

// MarshalSignature renders a signature file.
func MarshalSignature(s Signature) ([]byte, error) {
	b, err := json.MarshalIndent(signatureJSON{
		Algorithm: SignatureAlgorithm,
		PublicKey: encodeKey(s.PublicKey),
		Signature: base64.StdEncoding.EncodeToString(s.Signature),
	}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("session: marshal signature: %w", err)
	}
	return append(b, '\n'), nil
}

// ParseSignature decodes a signature file; anything but ed25519 with a 32-byte key and a 64-byte
// signature is ErrBadSignatureFile.
func ParseSignature(b []byte) (Signature, error) {
	var j signatureJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&j); err != nil {
		return Signature{}, fmt.Errorf("%w: %w", ErrBadSignatureFile, err)
	}
	if dec.More() {
		return Signature{}, fmt.Errorf("%w: data after the JSON object", ErrBadSignatureFile)
	}
	if j.Algorithm != SignatureAlgorithm {
		return Signature{}, fmt.Errorf("%w: algorithm %q (want %q)", ErrBadSignatureFile, j.Algorithm, SignatureAlgorithm)
	}
	pub, err := base64.StdEncoding.Strict().DecodeString(j.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return Signature{}, fmt.Errorf("%w: public_key is not %d bytes of base64", ErrBadSignatureFile, ed25519.PublicKeySize)
	}
	sig, err := base64.StdEncoding.Strict().DecodeString(j.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return Signature{}, fmt.Errorf("%w: signature is not %d bytes of base64", ErrBadSignatureFile, ed25519.SignatureSize)
	}
	return Signature{PublicKey: pub, Signature: sig}, nil
}

func encodeKey(k ed25519.PublicKey) string { return base64.StdEncoding.EncodeToString(k) }

// GenerateKey makes an ed25519 key pair and returns both as PEM: the private key as PKCS #8
// ("PRIVATE KEY"), the public key as PKIX ("PUBLIC KEY"), the forms openssl reads.
func GenerateKey() (privPEM, pubPEM []byte, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("session: generate key: %w", err)
	}
	p8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, fmt.Errorf("session: %w", err)
	}
	px, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, nil, fmt.Errorf("session: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}),
		pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: px}), nil
}

// ParsePrivateKey reads an ed25519 private key in PEM (PKCS #8), as GenerateKey writes it.
func ParsePrivateKey(b []byte) (ed25519.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%w: no PEM \"PRIVATE KEY\" block (make one with 'spacecast keygen')", ErrBadKey)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadKey, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: a %T, not an ed25519 key", ErrBadKey, k)
	}
	return priv, nil
}

// ParsePublicKey reads an ed25519 public key: PEM "PUBLIC KEY" (PKIX, as GenerateKey writes it),
// or the raw key in base64 as a signature file and `spacecast verify` print it. A private key is
// refused: a verifier should never need one.
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		raw, err := base64.StdEncoding.Strict().DecodeString(string(bytes.TrimSpace(b)))
		if err != nil || len(raw) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: neither a PEM \"PUBLIC KEY\" nor a base64 ed25519 key", ErrBadKey)
		}
		return ed25519.PublicKey(raw), nil
	}
	if blk.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("%w: a PEM %q block, want \"PUBLIC KEY\" (the KEYFILE.pub that keygen wrote)", ErrBadKey, blk.Type)
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadKey, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: a %T, not an ed25519 key", ErrBadKey, k)
	}
	return pub, nil
}

// LoadPrivateKey reads a private key file.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("session: key %s: %w", path, err)
	}
	k, err := ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("session: key %s: %w", path, err)
	}
	return k, nil
}

// LoadPublicKey reads a public key file.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("session: key %s: %w", path, err)
	}
	k, err := ParsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("session: key %s: %w", path, err)
	}
	return k, nil
}

// WriteKeyPair writes a new key pair: the private key to path (mode 0600) and the public key to
// path+".pub" (0644). It refuses to overwrite either file (ErrExist).
func WriteKeyPair(path string) (pubPath string, err error) {
	pubPath = path + ".pub"
	for _, p := range []string{path, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return "", fmt.Errorf("session: key %s: %w", p, fs.ErrExist)
		}
	}
	priv, pub, err := GenerateKey()
	if err != nil {
		return "", err
	}
	if err := createExcl(path, priv, 0o600); err != nil {
		return "", err
	}
	if err := createExcl(pubPath, pub, 0o644); err != nil {
		return "", errors.Join(err, os.Remove(path))
	}
	return pubPath, nil
}

func createExcl(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("session: key %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return errors.Join(fmt.Errorf("session: write %s: %w", path, err), f.Close(), os.Remove(path))
	}
	if err := f.Chmod(perm); err != nil { // the umask may have narrowed it; never widened past perm
		return errors.Join(fmt.Errorf("session: %w", err), f.Close(), os.Remove(path))
	}
	if err := f.Sync(); err != nil {
		return errors.Join(fmt.Errorf("session: sync %s: %w", path, err), f.Close(), os.Remove(path))
	}
	return f.Close()
}
