import { useEffect, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso/router';
import { acceptInvitation, checkSession, requestPasswordReset, resetPassword, setUpFirstAdmin, signIn } from './auth';

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
      <p>
        <a href="/app/forgot-password">Forgot password?</a>
      </p>
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

/** Asks for a reset link by email. The answer is the same whether or not the address has an account. */
export function ForgotPasswordPage() {
  const [email, setEmail] = useState('');
  const [sentTo, setSentTo] = useState<string | null>(null);
  const { busy, error, submit } = useSubmit(async () => {
    const to = email.trim();
    await requestPasswordReset(to);
    setSentTo(to);
  });
  return (
    <Page title="Reset your password" intro={sentTo ? undefined : 'Enter the email you sign in with. If it belongs to an account, a link to choose a new password is sent to it.'}>
      {sentTo ? (
        <div class="saved-box" role="status">
          <p>
            If {sentTo} belongs to an account, an email with a link to choose a new password is on its way. The link works once, within an hour.
          </p>
        </div>
      ) : (
        <form class="stack" onSubmit={submit} aria-describedby={error ? 'forgot-error' : undefined}>
          {error && (
            <div id="forgot-error" class="error" role="alert">
              <p>{error}</p>
            </div>
          )}
          <div class="field">
            <label for="forgot-email">Email</label>
            <input id="forgot-email" type="email" autocomplete="username" required maxLength={254} value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
          </div>
          <button type="submit" disabled={busy} aria-busy={busy ? 'true' : undefined}>
            {busy ? 'Sending…' : 'Send the link'}
          </button>
        </form>
      )}
      <p>
        <a href="/app/login">Back to sign in</a>
      </p>
    </Page>
  );
}

/** The emailed reset link (/app/reset-password?token=…): choose a new password, then sign in with it. */
export function ResetPasswordPage() {
  const { query } = useLocation();
  const token = query.token ?? '';
  const [password, setPassword] = useState('');
  const [done, setDone] = useState(false);
  const { busy, error, submit } = useSubmit(async () => {
    await resetPassword(token, password);
    setDone(true);
    // Every session of the account ended, this browser's too if it was that user's.
    void checkSession();
  });
  if (!token) {
    return (
      <Page title="Choose a new password">
        <div class="error" role="alert">
          <p>This link has no token. Open the full link from the email, or ask for a new one.</p>
        </div>
        <p>
          <a href="/app/forgot-password">Ask for a new link</a>
        </p>
      </Page>
    );
  }
  if (done) {
    return (
      <Page title="Password changed">
        <div class="saved-box" role="status">
          <p>Your new password is set, and you were signed out everywhere. Sign in with it now.</p>
        </div>
        <p>
          <a href="/app/login">Sign in</a>
        </p>
      </Page>
    );
  }
  return (
    <Page title="Choose a new password" intro="At least 10 characters. Every place you are signed in is signed out.">
      <form class="stack" onSubmit={submit} aria-describedby={error ? 'reset-error' : undefined}>
        {error && (
          <div id="reset-error" class="error" role="alert">
            <p>{error}</p>
            <p>
              <a href="/app/forgot-password">Ask for a new link</a>
            </p>
          </div>
        )}
        <div class="field">
          <label for="reset-password">New password</label>
          <input
            id="reset-password"
            type="password"
            autocomplete="new-password"
            required
            minLength={10}
            maxLength={1024}
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </div>
        <button type="submit" disabled={busy} aria-busy={busy ? 'true' : undefined}>
          {busy ? 'Saving…' : 'Set the new password'}
        </button>
      </form>
    </Page>
  );
}
