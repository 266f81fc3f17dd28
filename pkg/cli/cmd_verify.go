package cli

import (
	"crypto/ed25519"
	"fmt"
	"github.com/spacecast/spacecast/pkg/objstore"

	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast/pkg/session"
)

type verifyOptions struct {
	key string
	s3  s3Options
}

func newVerifyCommand(g *globalOptions) *cobra.Command {
	o := &verifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify SESSION [--key KEYFILE.pub]",
		Short: "Check a session's files against the digests and signature in its manifest",
		Long: `Verify hashes every file of a session folder (SHA-256) and compares them with the digests the
recorder (or 'spacecast recover') wrote into the manifest when it sealed the session. It reports
every file changed (size or content), missing or added, checks the manifest's signature
(manifest.json.sig) if there is one, and prints the SHA-256 of manifest.json: keep it somewhere
else (a ticket, an email) and a later verify proves the manifest is the one you saw.

Hashes catch accidents (a bad disk, a careless edit, a half-copied folder), not tampering: whoever
can change a file can change the manifest too. A signature (see 'spacecast keygen' and
'record --sign-key') adds that: with --key, verify accepts only a signature by that key, and a
session without one fails. Without --key any valid signature is accepted and its key is printed.
hold.json, the recorder's control file and manifest.json.sig itself are not hashed.

A session exported with 'spacecast export' verifies the same once unpacked.

` + s3ReadHelp + `In a bucket, every object of the session is hashed as it streams by (one GET each, nothing
written to disk), so verify proves the copy in the bucket, not a local one.

` + s3Help,
		Example: `  spacecast verify town-hall
  spacecast verify town-hall --key spacecast.key.pub
  tar -xf town-hall.tar && spacecast verify town-hall --json
  spacecast verify s3://recordings/2026/town-hall --key spacecast.key.pub`,
		Args: exactArgs("verify", 1, "SESSION"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(cmd, o, g, args[0])
		},
	}
	cmd.Flags().StringVar(&o.key, "key", "", "public key file (KEYFILE.pub from keygen, or the base64 key) the signature must be made with")
	o.s3.addFlags(cmd)
	return cmd
}

func runVerify(cmd *cobra.Command, o *verifyOptions, g *globalOptions, dir string) error {
	var trusted ed25519.PublicKey
	if o.key != "" {
		k, err := session.LoadPublicKey(o.key)
		if err != nil {
			return inputErr(fmt.Errorf("verify: --key: %w", err))
		}
		trusted = k
	}
	sess, _, err := o.s3.openBucketSession(cmd.Context(), "verify", dir)
	if err != nil {
		return err
	}
	var rep *session.Report
	if sess != nil {
		rep, err = session.VerifyFiles(sess.Files(), sess.Location(), trusted)
	} else {
		rep, err = session.Verify(dir, trusted)
	}
	if err != nil {
		return inputErr(fmt.Errorf("verify: %w", err))
	}
	problems := len(rep.Changed) + len(rep.Missing) + len(rep.Added)
	if g.json {
		if err := writeJSON(g.stdout, rep); err != nil {
			return err
		}
	} else {
		w := g.stdout
		for _, c := range rep.Changed {
			switch {
			case c.Detail != "":
				fmt.Fprintf(w, "changed  %s: %s\n", termPath(c.Path), term(c.Detail))
			case c.GotBytes != c.WantBytes:
				fmt.Fprintf(w, "changed  %s: %d bytes, sealed with %d\n", termPath(c.Path), c.GotBytes, c.WantBytes)
			default:
				fmt.Fprintf(w, "changed  %s: same size, different content (sha256 %s, sealed %s)\n", termPath(c.Path), c.GotSHA256[:16], c.WantSHA256[:16])
			}
		}
		for _, p := range rep.Missing {
			fmt.Fprintf(w, "missing  %s\n", termPath(p))
		}
		for _, p := range rep.Added {
			fmt.Fprintf(w, "added    %s\n", termPath(p))
		}
		switch {
		case !rep.Sealed:
			fmt.Fprintf(w, "files:     not sealed: the manifest lists no digests (recorded before sealing existed, or never finalized); nothing to check\n")
		case problems == 0:
			fmt.Fprintf(w, "files:     all %d match\n", rep.Files)
		default:
			fmt.Fprintf(w, "files:     %d of %d sealed files changed or missing, %d added\n", len(rep.Changed)+len(rep.Missing), rep.Files, len(rep.Added))
		}
		switch rep.Signature {
		case session.SigValid:
			fmt.Fprintf(w, "signature: valid, key %s\n", term(rep.SignerKey))
		case session.SigInvalid:
			fmt.Fprintf(w, "signature: INVALID: %s\n", term(rep.SignatureDetail))
		default:
			if rep.SignatureDetail != "" {
				fmt.Fprintf(w, "signature: absent: %s\n", term(rep.SignatureDetail))
			} else {
				fmt.Fprintf(w, "signature: none (unsigned session)\n")
			}
		}
		if rep.Held {
			fmt.Fprintf(w, "hold:      held (spacecast release %s lifts it)\n", dir)
		}
		fmt.Fprintf(w, "manifest:  sha256 %s\n", rep.ManifestSHA256)
	}
	if rep.OK {
		return nil
	}
	var why string
	switch {
	case !rep.Sealed && objstore.IsURL(dir):
		why = "it was never sealed: a session is sealed in its folder before it is pushed ('spacecast recover DIR' " +
			"seals a finalized one); 'spacecast record -o s3://…' seals what it records"
	case !rep.Sealed:
		why = "it was never sealed ('spacecast recover " + dir + "' seals a finalized session)"
	case problems > 0:
		why = fmt.Sprintf("%d file(s) differ from what was sealed", problems)
	default:
		why = "its signature is " + rep.Signature
		if rep.SignatureDetail != "" {
			why += ": " + rep.SignatureDetail
		}
	}
	return fmt.Errorf("verify: %s: %s", dir, why)
}
