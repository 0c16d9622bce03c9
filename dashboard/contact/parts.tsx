// What the contact page's sections share: the API's types, a card, a save status, a paged list.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { refusal, type Area } from '../access';
import { loadJson as load } from '../api/client';
import type { components } from '../api/schema';
import { ErrorMessage, Loading } from '../ui/status';

export type Detail = components['schemas']['ContactDetail'];
export type Field = components['schemas']['Field'];
export type Deal = components['schemas']['Deal'];
export type TimelineEvent = components['schemas']['Event'];
export type Page<T> = { data: T[]; has_more: boolean; next_cursor: string | null };


export function CannotChange({ area }: { area: Area }) {
  return <p class="hint cannot">{refusal(area, 'change')}</p>;
}

/** Saving… / Saved. / the server's message, announced politely (errors assertively). */
export type Save = { state: 'idle' } | { state: 'saving' } | { state: 'saved'; message: string } | { state: 'error'; message: string };
export function SaveStatus({ save, id }: { save: Save; id?: string }) {
  return (
    <span id={id} role={save.state === 'error' ? 'alert' : 'status'} class={save.state === 'error' ? 'field-error' : save.state === 'saved' ? 'saved' : 'hint'}>
      {save.state === 'saving' ? 'Saving…' : save.state === 'saved' ? save.message : save.state === 'error' ? save.message : ''}
    </span>
  );
}

export function Card(props: { id: string; title: string; children: ComponentChildren; busy?: boolean }) {
  return (
    <section class="card" aria-labelledby={props.id} aria-busy={props.busy ? 'true' : undefined}>
      <h2 id={props.id}>{props.title}</h2>
      {props.children}
    </section>
  );
}

/** A cursor-paginated list shown a page at a time, "Show more" appending the next page. */
export function Paged<T>(props: { load: (cursor?: string) => Promise<Page<T>>; what: string; empty: ComponentChildren; reloadKey?: string | number; children: (items: T[]) => ComponentChildren }) {
  const [items, setItems] = useState<T[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [state, setState] = useState<{ busy: boolean; error: string | null }>({ busy: true, error: null });
  const run = useRef(0);
  const fetchPage = async (cursor?: string) => {
    const n = ++run.current;
    setState({ busy: true, error: null });
    try {
      const p = await props.load(cursor);
      if (n !== run.current) return;
      setItems((old) => (cursor ? [...(old ?? []), ...p.data] : p.data));
      setNext(p.has_more ? p.next_cursor : null);
      setState({ busy: false, error: null });
    } catch (e) {
      if (n === run.current) setState({ busy: false, error: e instanceof Error ? e.message : String(e) });
    }
  };
  useEffect(() => void fetchPage(), [props.reloadKey]);
  return (
    <div aria-busy={state.busy ? 'true' : undefined}>
      {items && items.length === 0 && props.empty}
      {items && items.length > 0 && props.children(items)}
      {state.busy && <Loading what={props.what} />}
      {state.error && <ErrorMessage message={state.error} retry={() => fetchPage(items?.length ? (next ?? undefined) : undefined)} />}
      {!state.busy && next && (
        <button type="button" class="secondary more-button" onClick={() => fetchPage(next)}>
          Show more {props.what}
        </button>
      )}
    </div>
  );
}

