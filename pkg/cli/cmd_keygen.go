package cli

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast/pkg/session"
)

type keygenOptions struct {
	output string
}

func newKeygenCommand(g *globalOptions) *cobra.Command {
	o := &keygenOptions{}
	cmd := &cobra.Command{
		Use:   "keygen -o KEYFILE",
		Short: "Make an ed25519 key pair to sign sessions with",
		Long: `Keygen writes a new ed25519 private key to KEYFILE (PEM, PKCS #8, mode 0600) and its public key
beside it as KEYFILE.pub (PEM, PKIX). It never overwrites an existing file.

Keep the private key on the recording machine ('spacecast record --sign-key KEYFILE') and give
the public key to whoever checks recordings ('spacecast verify SESSION --key KEYFILE.pub').`,
		Example: `  spacecast keygen -o ~/.config/spacecast/sign.key
  spacecast verify town-hall --key ~/.config/spacecast/sign.key.pub`,
		Args: exactArgs("keygen", 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runKeygen(o, g)
		},
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "private key file to write; the public key goes to KEYFILE.pub (required)")
	return cmd
}

func runKeygen(o *keygenOptions, g *globalOptions) error {
	if o.output == "" {
		return usageErr("keygen: give the key file with -o KEYFILE")
	}
	for _, p := range []string{o.output, o.output + ".pub"} {
		if err := checkOutput("keygen", "-o", p); err != nil {
			return err
		}
		if err := checkNotInSite("keygen", "-o", p, "a private key"); err != nil {
			return err
		}
	}
	pubPath, err := session.WriteKeyPair(o.output)
	if errors.Is(err, fs.ErrExist) {
		return inputErr(fmt.Errorf("keygen: %w: keygen never overwrites a key (choose another -o, or remove the old key if you really mean to)", err))
	}
	if err != nil {
		return inputErr(fmt.Errorf("keygen: %w", err))
	}
	pub, err := session.LoadPublicKey(pubPath)
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	b64 := base64.StdEncoding.EncodeToString(pub)
	if g.json {
		return writeJSON(g.stdout, map[string]string{"private_key": o.output, "public_key": pubPath, "public_key_base64": b64})
	}
	fmt.Fprintf(g.stdout, "private key %s (keep it secret; mode 0600)\npublic key  %s\n            %s\n", o.output, pubPath, b64)
	return nil
}
