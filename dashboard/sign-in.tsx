import { useEffect, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso/router';
import { acceptInvitation, setUpFirstAdmin, signIn } from './auth';

function Page(props: { title: string; intro?: string; children: preact.ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <main id="main" class="sign-in">
      <p class="brand">Leadline</p>
      <h1 ref={heading} tabIndex={-1}>
        {props.title}
      </h1>
      {props.intro && <p>{props.intro}</p>}
      {props.children}
    </main>
  );
}

/** Runs a form's submission with the busy state and the server's message on failure. */
function useSubmit(action: () => Promise<void>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };
  return { busy, error, submit };
}

export function SignInPage({ problem }: { problem?: string }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, submit } = useSubmit(() => signIn(email.trim(), password));
  const message = error ?? problem;
  return (
    <Page title="Sign in">
      <form class="stack" onSubmit={submit} aria-describedby={message ? 'sign-in-error' : undefined}>
        {message && (
          <div id="sign-in-error" class="error" role="alert">
            <p>{message}</p>
          </div>
        )}
        <div class="field">
          <label for="email">Email</label>
          <input id="email" type="email" autocomplete="username" required maxLength={254} value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="password">Password</label>
          <input id="password" type="password" autocomplete="current-password" required maxLength={1024} value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </div>
        <button type="submit" disabled={busy} aria-busy={busy ? 'true' : undefined}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p class="hint">
        No account yet? An admin invites you from Settings; the first admin signs in with the one-time link the server printed on its first start.
      </p>
    </Page>
  );
}

/**
 * The first admin's one-time link (/app/setup?token=…&first=1: also an email to sign in with) and
 * invitations (/app/setup?token=…: the email is the invited one): choose a name and password.
 */
export function SetupPage() {
  const { query } = useLocation();
  const token = query.token ?? '';
  const first = query.first === '1';
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, submit } = useSubmit(() =>
    first ? setUpFirstAdmin(token, email.trim(), name.trim(), password) : acceptInvitation(token, name.trim(), password),
  );
  if (!token) {
    return (
      <Page title="Set up your account">
        <div class="error" role="alert">
          <p>This link has no token. Open the full link you were sent, or ask an admin for a new invitation.</p>
        </div>
        <p>
          <a href="/app/login">Go to sign in</a>
        </p>
      </Page>
    );
  }
  return (
    <Page title="Set up your account" intro="Choose the name others see and a password to sign in with.">
      <form class="stack" onSubmit={submit} aria-describedby={error ? 'setup-error' : undefined}>
        {error && (
          <div id="setup-error" class="error" role="alert">
            <p>{error}</p>
          </div>
        )}
        {first && (
          <div class="field">
            <label for="setup-email">Email</label>
            <input id="setup-email" type="email" autocomplete="email" required maxLength={254} value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
          </div>
        )}
        <div class="field">
          <label for="name">Your name</label>
          <input id="name" type="text" autocomplete="name" required maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="new-password">Password</label>
          <input
            id="new-password"
            type="password"
            autocomplete="new-password"
            required
            maxLength={1024}
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </div>
        <button type="submit" disabled={busy} aria-busy={busy ? 'true' : undefined}>
          {busy ? 'Saving…' : 'Save and sign in'}
        </button>
      </form>
    </Page>
  );
}
