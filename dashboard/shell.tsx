import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso/router';
import { can } from './access';
import { signOut, type User } from './auth';
import { NAV, isCurrent } from './nav';

/** The frame around every view: skip link, header with the sections and the user, the main region. */
export function Shell(props: { user: User; loading: boolean; children: ComponentChildren }) {
  const { path } = useLocation();
  const [problem, setProblem] = useState<string | null>(null);
  const [leaving, setLeaving] = useState(false);
  const leave = async () => {
    setLeaving(true);
    setProblem(null);
    try {
      await signOut();
    } catch (e) {
      setProblem(e instanceof Error ? e.message : String(e));
      setLeaving(false);
    }
  };
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="/app">
          Leadline
        </a>
        <nav aria-label="Sections">
          <ul>
            {NAV.filter((item) => !item.need || can(...item.need)).map((item) => (
              <li>
                <a href={item.href} aria-current={isCurrent(item, path) ? 'page' : undefined}>
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="user">
          <span class="who" title={props.user.email}>
            {props.user.name || props.user.email}
          </span>
          <span class="role">{props.user.role}</span>
          <button type="button" class="secondary" onClick={leave} disabled={leaving}>
            {leaving ? 'Signing out…' : 'Sign out'}
          </button>
        </div>
      </header>
      {problem && (
        <div class="error banner" role="alert">
          <p>Could not sign out: {problem}</p>
        </div>
      )}
      <main id="main" tabIndex={-1}>
        {props.loading && (
          <p class="status view-loading" role="status">
            <span class="spinner" aria-hidden="true" /> Loading…
          </p>
        )}
        {props.children}
      </main>
    </>
  );
}
