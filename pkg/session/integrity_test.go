package session

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyDemo copies testdata/demo/session (a finalized session) into a temp folder.
func copyDemo(t testing.TB) string {
	t.Helper()
	src := filepath.Join("..", "..", "testdata", "demo", "session")
	dst := filepath.Join(t.TempDir(), "town-hall")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

func newKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestVerifyFindsEveryChange(t *testing.T) {
	key := newKey(t)
	other := newKey(t)
	cases := []struct {
		name    string
		trusted ed25519.PublicKey
		change  func(t *testing.T, dir string)
		check   func(t *testing.T, r *Report)
	}{
		{"an untouched signed session is OK and its signature valid", nil, func(*testing.T, string) {},
			func(t *testing.T, r *Report) {
				if !r.OK || r.Signature != SigValid || r.Files != 4 {
					t.Errorf("got %+v", r)
				}
			}},
		{"the trusted key that signed it is accepted", key.Public().(ed25519.PublicKey), func(*testing.T, string) {},
			func(t *testing.T, r *Report) {
				if !r.OK || r.Signature != SigValid {
					t.Errorf("got %+v", r)
				}
			}},
		{"one flipped byte in a track is a changed file of the same size", nil, func(t *testing.T, dir string) {
			p := filepath.Join(dir, "tracks", "brook-1.opus")
			b, _ := os.ReadFile(p)
			b[len(b)/2] ^= 0x01
			os.WriteFile(p, b, 0o644)
		}, func(t *testing.T, r *Report) {
			if r.OK || len(r.Changed) != 1 || r.Changed[0].Path != "tracks/brook-1.opus" || r.Changed[0].GotBytes != r.Changed[0].WantBytes {
				t.Errorf("got %+v", r)
			}
		}},
		{"a truncated track is a changed file with a smaller size", nil, func(t *testing.T, dir string) {
			os.Truncate(filepath.Join(dir, "tracks", "ada-1.opus"), 1000)
		}, func(t *testing.T, r *Report) {
			if r.OK || len(r.Changed) != 1 || r.Changed[0].GotBytes != 1000 {
				t.Errorf("got %+v", r)
			}
		}},
		{"an extra file is added", nil, func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "tracks", "eve-1.opus"), []byte("x"), 0o644)
		}, func(t *testing.T, r *Report) {
			if r.OK || len(r.Added) != 1 || r.Added[0] != "tracks/eve-1.opus" {
				t.Errorf("got %+v", r)
			}
		}},
		{"a deleted track is missing", nil, func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "tracks", "cyd-1.opus"))
		}, func(t *testing.T, r *Report) {
			if r.OK || len(r.Missing) != 1 || r.Missing[0] != "tracks/cyd-1.opus" {
				t.Errorf("got %+v", r)
			}
		}},
		{"a manifest edited by hand (title changed) breaks the signature though every file matches", nil, func(t *testing.T, dir string) {
			p := filepath.Join(dir, ManifestName)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, []byte(strings.Replace(string(b), `"finalized": true`, `"finalized": true, "meta": {"title": "forged"}`, 1)), 0o644)
		}, func(t *testing.T, r *Report) {
			if r.OK || r.Signature != SigInvalid || len(r.Changed)+len(r.Added)+len(r.Missing) != 0 {
				t.Errorf("got %+v", r)
			}
		}},
		{"a signature checked against another key is invalid", other.Public().(ed25519.PublicKey), func(*testing.T, string) {},
			func(t *testing.T, r *Report) {
				if r.OK || r.Signature != SigInvalid || !strings.Contains(r.SignatureDetail, "not with the trusted key") {
					t.Errorf("got %+v", r)
				}
			}},
		{"a removed signature is absent: fine without a key", nil, func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, SignatureName))
		}, func(t *testing.T, r *Report) {
			if !r.OK || r.Signature != SigAbsent {
				t.Errorf("got %+v", r)
			}
		}},
		{"a removed signature is a problem when a key is required", key.Public().(ed25519.PublicKey), func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, SignatureName))
		}, func(t *testing.T, r *Report) {
			if r.OK || r.Signature != SigAbsent {
				t.Errorf("got %+v", r)
			}
		}},
		{"a garbled signature file is invalid", nil, func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, SignatureName), []byte("{"), 0o644)
		}, func(t *testing.T, r *Report) {
			if r.OK || r.Signature != SigInvalid {
				t.Errorf("got %+v", r)
			}
		}},
		{"hold.json, the control pointer and a temp file are outside the hashes", nil, func(t *testing.T, dir string) {
			if _, err := Hold(dir, "moderation request 42"); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, ControlName), []byte("/tmp/x.sock"), 0o644)
			os.WriteFile(filepath.Join(dir, ".manifest.json.tmp123"), []byte("{"), 0o644)
		}, func(t *testing.T, r *Report) {
			if !r.OK || !r.Held {
				t.Errorf("got %+v", r)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyDemo(t)
			if err := Seal(dir, key); err != nil {
				t.Fatal(err)
			}
			c.change(t, dir)
			r, err := Verify(dir, c.trusted)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.ManifestSHA256) != 64 {
				t.Errorf("manifest digest %q", r.ManifestSHA256)
			}
			c.check(t, r)
		})
	}
}

func TestVerifyUnsealedAndNotASession(t *testing.T) {
	dir := copyDemo(t)
	r, err := Verify(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Sealed || r.OK || len(r.Added) != 0 {
		t.Errorf("an unsealed session must be reported as unsealed, not as files added: %+v", r)
	}
	if _, err := Verify(t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "not a spacecast session") {
		t.Errorf("verify of an empty folder: %v", err)
	}
}

func TestSealRefusesUnfinalizedAndRemovesStaleSignature(t *testing.T) {
	dir := copyDemo(t)
	if err := Seal(dir, newKey(t)); err != nil {
		t.Fatal(err)
	}
	if err := Seal(dir, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, SignatureName)); err == nil {
		t.Error("an unsigned seal left the old signature behind")
	}
	s, _ := Open(dir)
	s.Manifest.Finalized = false
	s.Save()
	if err := Seal(dir, nil); err == nil || !strings.Contains(err.Error(), "not finalized") {
		t.Errorf("seal of an unfinalized session: %v", err)
	}
}

func TestKeyFiles(t *testing.T) {
	p := filepath.Join(t.TempDir(), "spacecast.key")
	pubPath, err := WriteKeyPair(p)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %v, want 0600", st.Mode().Perm())
	}
	priv, err := LoadPrivateKey(p)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := LoadPublicKey(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(priv.Public()) {
		t.Error("the public key file does not match the private key")
	}
	if _, err := WriteKeyPair(p); err == nil {
		t.Error("keygen overwrote an existing key")
	}
	if _, err := LoadPublicKey(p); err == nil {
		t.Error("a private key was accepted as a public key")
	}
	if _, err := LoadPrivateKey(pubPath); err == nil {
		t.Error("a public key was accepted as a private key")
	}
}

func FuzzParseSignature(f *testing.F) {
	k := newKey(f)
	good, _ := MarshalSignature(Sign(k, []byte("manifest")))
	f.Add(good)
	f.Add([]byte(`{"algorithm":"rsa"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSignature(b)
		if err != nil {
			return
		}
		if len(s.PublicKey) != ed25519.PublicKeySize || len(s.Signature) != ed25519.SignatureSize {
			t.Fatalf("accepted a signature of wrong sizes: %d, %d", len(s.PublicKey), len(s.Signature))
		}
		again, err := MarshalSignature(s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseSignature(again); err != nil {
			t.Fatalf("a re-marshalled signature does not parse: %v", err)
		}
	})
}

func FuzzParseHold(f *testing.F) {
	f.Add([]byte(`{"reason":"moderation request 42","by":"ada","since":"2026-11-24T21:00:00Z"}`))
	f.Add([]byte(`{"reason":""}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHold(b)
		if err != nil {
			return
		}
		if strings.TrimSpace(h.Reason) == "" {
			t.Fatal("accepted a hold without a reason")
		}
	})
}
