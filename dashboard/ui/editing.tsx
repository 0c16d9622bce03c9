// Forms that write: the server's errors pinned to the fields they name, and feedback for every
// action (saving, saved, failed with the server's message).
import type { ComponentChildren, JSX } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { errorMessage } from '../api/client';

export interface FieldProblem {
  field: string;
  message: string;
}

/** A failed call: the server's message and, for a 422, the fields it names. */
export class ApiProblem extends Error {
  constructor(
    message: string,
    readonly details: FieldProblem[] = [],
    readonly status = 0,
  ) {
    super(message);
  }
}

/** Runs a typed call; resolves with its data or throws an ApiProblem carrying the server's message and details. */
export async function send<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let r: { data?: T; error?: unknown; response: Response };
  try {
    r = await call;
  } catch (e) {
    throw new ApiProblem(errorMessage(e));
  }
  if (r.error !== undefined || !r.response.ok) {
    const details = (r.error as { error?: { details?: unknown } } | undefined)?.error?.details;
    throw new ApiProblem(
      errorMessage(r.error, r.response),
      Array.isArray(details) ? details.filter((d): d is FieldProblem => typeof d?.field === 'string' && typeof d?.message === 'string') : [],
      r.response.status,
    );
  }
  return r.data as T;
}

export type SaveState = { state: 'idle' } | { state: 'saving' } | { state: 'saved'; message: string } | { state: 'error'; message: string; fields: Record<string, string> };

/**
 * One form's save: `run` marks it saving, then saved (with `done`'s message) or failed (the
 * server's message, and its field errors by field name: `fieldError('name')`). Errors whose
 * field the form does not show stay in the summary.
 */
export function useSaver() {
  const [s, set] = useState<SaveState>({ state: 'idle' });
  const alive = useRef(true);
  useEffect(() => () => void (alive.current = false), []);
  const run = useCallback(async <T,>(action: () => Promise<T>, done: string | ((r: T) => string)): Promise<T | undefined> => {
    set({ state: 'saving' });
    try {
      const r = await action();
      if (alive.current) set({ state: 'saved', message: typeof done === 'string' ? done : done(r) });
      return r;
    } catch (e) {
      const p = e instanceof ApiProblem ? e : new ApiProblem(e instanceof Error ? e.message : String(e));
      const fields: Record<string, string> = {};
      for (const d of p.details) if (d.field && !fields[d.field]) fields[d.field] = d.message;
      if (alive.current) set({ state: 'error', message: p.message, fields });
      return undefined;
    }
  }, []);
  /** The server's message for a field (or for a part of it: "allowed_origins.1" is shown at allowed_origins). */
  const fieldError = (name: string): string | undefined => {
    if (s.state !== 'error') return undefined;
    if (s.fields[name]) return s.fields[name];
    const part = Object.keys(s.fields).find((f) => f.startsWith(`${name}.`));
    return part ? `${part.slice(name.length + 1)}: ${s.fields[part]}` : undefined;
  };
  const reset = useCallback(() => set({ state: 'idle' }), []);
  return { ...s, status: s, run, fieldError, reset, busy: s.state === 'saving' };
}

/** The attributes an input needs to be labelled, described and marked invalid. */
export interface FieldA11y {
  id: string;
  'aria-describedby'?: string;
  'aria-invalid'?: 'true';
}

/** A labelled input with its hint and, when the server named it, its error right below. */
export function Field(props: { id: string; label: ComponentChildren; hint?: ComponentChildren; error?: string; class?: string; children: (a: FieldA11y) => JSX.Element }) {
  const described = [props.hint ? `${props.id}-hint` : '', props.error ? `${props.id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div class={`field ${props.class ?? ''}`}>
      <label for={props.id}>{props.label}</label>
      {props.children({ id: props.id, ...(described ? { 'aria-describedby': described } : {}), ...(props.error ? { 'aria-invalid': 'true' as const } : {}) })}
      {props.hint && (
        <p class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      )}
      {props.error && (
        <p class="field-error" id={`${props.id}-error`}>
          {props.error}
        </p>
      )}
    </div>
  );
}

/** Saving… / Saved. / the server's message: announced as it changes. */
export function SaveStatus({ status, shown = [] }: { status: SaveState; shown?: string[] }) {
  if (status.state === 'saving')
    return (
      <p class="status save-status" role="status">
        <span class="spinner" aria-hidden="true" /> Saving…
      </p>
    );
  if (status.state === 'saved')
    return (
      <p class="status save-status saved" role="status">
        {status.message}
      </p>
    );
  if (status.state === 'error') {
    // Field errors the form shows next to their fields are not repeated; the others are listed.
    const rest = Object.entries(status.fields).filter(([f]) => !shown.some((x) => f === x || f.startsWith(`${x}.`)));
    return (
      <div class="error" role="alert">
        <p>{status.message}</p>
        {rest.length > 1 && (
          <ul>
            {rest.map(([f, m]) => (
              <li>
                {f}: {m}
              </li>
            ))}
          </ul>
        )}
      </div>
    );
  }
  return <p class="status save-status" role="status" />;
}

/** Copies text to the clipboard, saying so; where the clipboard is not allowed, selects the text to copy by hand. */
export function CopyButton({ text, label, target }: { text: string; label: string; target?: string }) {
  const [said, setSaid] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setSaid('Copied.');
    } catch {
      const el = target ? document.getElementById(target) : null;
      if (el) {
        const range = document.createRange();
        range.selectNodeContents(el);
        getSelection()?.removeAllRanges();
        getSelection()?.addRange(range);
      }
      setSaid('Could not copy: the text is selected, press Ctrl+C (⌘C) to copy it.');
    }
  };
  return (
    <span class="copy">
      <button type="button" class="secondary" onClick={copy}>
        {label}
      </button>
      <span role="status" class="hint">
        {said}
      </span>
    </span>
  );
}

/** Asks before an action that cannot be undone; the buttons are real buttons, the focus goes to "Cancel". */
export function Confirm(props: { question: ComponentChildren; yes: string; busy?: boolean; onYes: () => void; onNo: () => void }) {
  const no = useRef<HTMLButtonElement>(null);
  useEffect(() => no.current?.focus(), []);
  return (
    <div class="confirm" role="group" aria-label="Confirm">
      <p>{props.question}</p>
      <div class="actions">
        <button type="button" class="danger" onClick={props.onYes} disabled={props.busy}>
          {props.busy ? 'Working…' : props.yes}
        </button>
        <button type="button" class="secondary" ref={no} onClick={props.onNo}>
          Cancel
        </button>
      </div>
    </div>
  );
}

/** Every page of a list endpoint (cursor pagination), up to `max` items. */
export async function allPages<T>(get: (cursor: string | undefined) => Promise<{ data: T[]; has_more: boolean; next_cursor: string | null }>, max = 1000): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await get(cursor);
    out.push(...page.data);
    if (!page.has_more || !page.next_cursor || out.length >= max) return out;
    cursor = page.next_cursor;
  }
}
