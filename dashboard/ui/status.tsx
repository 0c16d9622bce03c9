import type { ComponentChildren } from 'preact';

/** Announced politely to screen readers; shown while something loads. */
export function Loading({ what }: { what: string }) {
  return (
    <p class="status" role="status">
      <span class="spinner" aria-hidden="true" /> Loading {what}…
    </p>
  );
}

/** The server's message (or why the server could not be reached), announced at once. */
export function ErrorMessage({ message, retry }: { message: string; retry?: () => void }) {
  return (
    <div class="error" role="alert">
      <p>{message}</p>
      {retry && (
        <button type="button" class="secondary" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** What an empty result means and what to do next. */
export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <p class="empty-title">{title}</p>
      {children}
    </div>
  );
}

/** What the signed-in user's role cannot do here, said plainly (the server would refuse it with the same words). */
export function Refused({ message, children }: { message: string; children?: ComponentChildren }) {
  return (
    <div class="refused" role="note">
      <p>
        <strong>{message}</strong>
      </p>
      {children ?? <p>An admin can change your role in Settings → Users and roles.</p>}
    </div>
  );
}
