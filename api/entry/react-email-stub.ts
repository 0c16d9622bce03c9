// The resend SDK imports @react-email/render lazily, only to turn React elements into HTML, which
// Leadline never hands it (it renders its own templates). The package is an optional peer that is
// not installed, and workerd refuses a bundle with an import it cannot resolve, so wrangler.toml
// aliases it to this stub.
export async function render(): Promise<string> {
  throw new Error('React email rendering is not part of Leadline');
}
