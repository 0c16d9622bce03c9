import { useLocation, useRoute } from 'preact-iso/router';
import { useEffect, useRef, useState } from 'preact/hooks';
import { can, refusal } from '../access';
import { api, load } from '../api/client';
import type { components } from '../api/schema';
import { BLOCK_LABELS, blockAtLine, blocksToHtml, emptyBlock, htmlToBlocks, type Block, type BlockType } from '../emails/blocks';
import { EmailFrame, type FrameInfo } from '../emails/frame';
import { BUILT_IN, customVariable, liquidTag, type Variable } from '../emails/liquid';
import { EmailSubnav, kindLabel, rate } from '../emails/common';
import { allPages, Confirm, Field, SaveStatus, send, useSaver } from '../ui/editing';
import { formatDateTime, formatInteger } from '../ui/format';
import { Empty, ErrorMessage, Loading, Refused } from '../ui/status';
import { useLoad } from '../ui/use-load';

// Emails: the list with each email's sends, opens and clicks; the editor — subject, preheader,
// sender, category and the content, as HTML source or as simple blocks, with personalisation
// tags inserted where the cursor is; the preview the server renders for a chosen contact; and a
// test send to any address.

type Email = components['schemas']['Email'];
type Report = components['schemas']['EmailReport'];
type Contact = components['schemas']['Contact'];
type Category = components['schemas']['EmailCategory'];
type Kind = Email['kind'];

async function loadList(): Promise<{ email: Email; report: Report | null }[]> {
  const page = await load(api.GET('/api/v1/emails', { params: { query: { limit: 50 } } }));
  // Each email's report (all time, from its sends); one that fails leaves its columns empty.
  return Promise.all(
    page.data.map(async (email) => ({ email, report: await load(api.GET('/api/v1/emails/{id}/report', { params: { path: { id: email.id } } })).catch(() => null) })),
  );
}

function EmailList() {
  const { query } = useLocation();
  const list = useLoad(loadList, 'list');
  const mayChange = can('emails', 'change');
  useEffect(() => void (document.title = 'Emails · Leadline'), []);
  return (
    <section class="emails">
      <div class="title-row">
        <h1 tabIndex={-1}>Emails</h1>
        {mayChange && (
          <a class="button" href="/app/emails/new">
            New email
          </a>
        )}
      </div>
      <EmailSubnav />
      {query.deleted && (
        <p class="status saved" role="status">
          Email “{query.deleted}” deleted.
        </p>
      )}
      <p class="lead">Emails sent by the API, campaigns and broadcasts, with what became of their sends. Test sends are not counted.</p>
      {list.state === 'loading' && <Loading what="emails" />}
      {list.state === 'error' && <ErrorMessage message={list.message} retry={list.retry} />}
      {list.state === 'done' &&
        (list.data.length === 0 ? (
          <Empty title="No emails yet.">
            <p>
              Write one with blocks or HTML, personalise it with the contact’s fields, preview it as a contact and send yourself a test.{' '}
              {mayChange ? <a href="/app/emails/new">Write your first email</a> : 'A marketer or an admin can write one'}.
            </p>
          </Empty>
        ) : (
          <div class="table-wrap" role="region" aria-label="Emails" tabIndex={0}>
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Kind</th>
                  <th scope="col" class="num">
                    Sent
                  </th>
                  <th scope="col" class="num">
                    Opened
                  </th>
                  <th scope="col" class="num">
                    Clicked
                  </th>
                  <th scope="col">Updated</th>
                  <th scope="col">
                    <span class="sr-only">Report</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data.map(({ email: e, report: r }) => (
                  <tr>
                    <th scope="row">
                      <a href={mayChange ? `/app/emails/${e.id}` : `/app/emails/${e.id}/report`}>{e.name}</a>
                      <span class="hint block">{e.subject}</span>
                    </th>
                    <td>{kindLabel(e.kind)}</td>
                    <td class="num">{r ? formatInteger(r.sent) : '—'}</td>
                    <td class="num">{r ? `${formatInteger(r.opens.unique.human)} (${rate(r.rates.open.human)})` : '—'}</td>
                    <td class="num">{r ? `${formatInteger(r.clicks.unique.human)} (${rate(r.rates.click.human)})` : '—'}</td>
                    <td>{formatDateTime(e.updated_at)}</td>
                    <td>
                      <a href={`/app/emails/${e.id}/report`} aria-label={`Report: ${e.name}`}>
                        Report
                      </a>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
    </section>
  );
}

/** Where a personalisation tag goes: the field the cursor was last in. */
interface InsertTarget {
  el: HTMLInputElement | HTMLTextAreaElement;
  set: (v: string) => void;
}

function useInsertion() {
  const target = useRef<InsertTarget | null>(null);
  /** Props for an input that personalisation tags can go into. */
  const into = (set: (v: string) => void) => ({
    onFocus: (e: FocusEvent) => void (target.current = { el: e.currentTarget as HTMLInputElement, set }),
  });
  const insert = (tag: string): boolean => {
    const t = target.current;
    if (!t || !t.el.isConnected) return false;
    const { el } = t;
    const start = el.selectionStart ?? el.value.length;
    const end = el.selectionEnd ?? start;
    t.set(el.value.slice(0, start) + tag + el.value.slice(end));
    requestAnimationFrame(() => {
      el.focus();
      el.setSelectionRange(start + tag.length, start + tag.length);
    });
    return true;
  };
  return { into, insert };
}

function LiquidHelper(props: { variables: Variable[]; insert: (tag: string) => boolean }) {
  const [path, setPath] = useState(props.variables[0]!.path);
  const [fallback, setFallback] = useState('');
  const [said, setSaid] = useState('');
  const v = props.variables.find((x) => x.path === path) ?? props.variables[0]!;
  const tag = liquidTag(v, fallback);
  const groups = [...new Set(props.variables.map((x) => x.group))];
  return (
    <fieldset class="liquid-helper">
      <legend>Personalise</legend>
      <div class="form-grid">
        <Field id="liquid-var" label="Contact field">
          {(a) => (
            <select {...a} value={path} onChange={(e) => setPath(e.currentTarget.value)}>
              {groups.map((g) => (
                <optgroup label={g}>
                  {props.variables
                    .filter((x) => x.group === g)
                    .map((x) => (
                      <option value={x.path}>{x.label}</option>
                    ))}
                </optgroup>
              ))}
            </select>
          )}
        </Field>
        {!v.link && (
          <Field id="liquid-fallback" label="When empty, show (optional)">
            {(a) => <input {...a} type="text" maxLength={100} value={fallback} onInput={(e) => setFallback(e.currentTarget.value)} />}
          </Field>
        )}
      </div>
      <p class="hint">
        Tag: <code>{tag}</code>
      </p>
      <div class="actions">
        <button
          type="button"
          class="secondary"
          onClick={() => setSaid(props.insert(tag) ? `Inserted ${tag}.` : 'Put the cursor in the subject, the preheader, the HTML or a block’s text first.')}
        >
          Insert tag
        </button>
        <span role="status" class="hint">
          {said}
        </span>
      </div>
    </fieldset>
  );
}

function BlockFields(props: { block: Block; i: number; set: (b: Block) => void; into: (set: (v: string) => void) => object }) {
  const { block: b, i, set } = props;
  const id = (f: string) => `block-${i}-${f}`;
  switch (b.type) {
    case 'heading':
      return (
        <Field id={id('text')} label="Heading text">
          {(a) => <input {...a} {...props.into((text) => set({ ...b, text }))} type="text" value={b.text} onInput={(e) => set({ ...b, text: e.currentTarget.value })} />}
        </Field>
      );
    case 'text':
      return (
        <Field id={id('text')} label="Text" hint="A blank line starts a new paragraph.">
          {(a) => <textarea {...a} {...props.into((text) => set({ ...b, text }))} rows={4} value={b.text} onInput={(e) => set({ ...b, text: e.currentTarget.value })} />}
        </Field>
      );
    case 'button':
      return (
        <div class="form-grid">
          <Field id={id('label')} label="Button label">
            {(a) => <input {...a} {...props.into((label) => set({ ...b, label }))} type="text" value={b.label} onInput={(e) => set({ ...b, label: e.currentTarget.value })} />}
          </Field>
          <Field id={id('url')} label="Link address">
            {(a) => <input {...a} {...props.into((url) => set({ ...b, url }))} type="text" inputMode="url" value={b.url} onInput={(e) => set({ ...b, url: e.currentTarget.value })} />}
          </Field>
        </div>
      );
    case 'image':
      return (
        <div class="form-grid">
          <Field id={id('src')} label="Image address">
            {(a) => <input {...a} type="text" inputMode="url" value={b.src} onInput={(e) => set({ ...b, src: e.currentTarget.value })} />}
          </Field>
          <Field id={id('alt')} label="Description (alt text)">
            {(a) => <input {...a} type="text" value={b.alt} onInput={(e) => set({ ...b, alt: e.currentTarget.value })} />}
          </Field>
          <Field id={id('url')} label="Link address (optional)">
            {(a) => <input {...a} type="text" inputMode="url" value={b.url} onInput={(e) => set({ ...b, url: e.currentTarget.value })} />}
          </Field>
        </div>
      );
    case 'divider':
      return <p class="hint">A horizontal line.</p>;
    case 'html':
      return (
        <Field id={id('html')} label="HTML" hint="Kept as written.">
          {(a) => <textarea {...a} {...props.into((html) => set({ ...b, html }))} class="code" rows={5} spellcheck={false} value={b.html} onInput={(e) => set({ ...b, html: e.currentTarget.value })} />}
        </Field>
      );
  }
}

function BlockEditor(props: { blocks: Block[]; onChange: (b: Block[]) => void; into: (set: (v: string) => void) => object; error?: { at: number; message: string } }) {
  const [adding, setAdding] = useState<BlockType>('text');
  const { blocks, onChange } = props;
  const put = (i: number, b: Block) => onChange(blocks.map((x, j) => (j === i ? b : x)));
  const move = (i: number, d: number) => {
    const next = [...blocks];
    const [b] = next.splice(i, 1);
    next.splice(i + d, 0, b!);
    onChange(next);
  };
  return (
    <div class="blocks">
      {blocks.length === 0 && <p class="hint">No blocks yet: add a heading, some text, a button…</p>}
      <ol class="block-list">
        {blocks.map((b, i) => (
          <li>
            <fieldset class="block">
              <legend>
                Block {i + 1}: {BLOCK_LABELS[b.type]}
              </legend>
              <BlockFields block={b} i={i} set={(nb) => put(i, nb)} into={props.into} />
              {props.error?.at === i && (
                <p class="field-error" id={`block-${i}-error`} role="alert">
                  {props.error.message}
                </p>
              )}
              <div class="actions">
                <button type="button" class="secondary small" disabled={i === 0} onClick={() => move(i, -1)} aria-label={`Move block ${i + 1} up`}>
                  Up
                </button>
                <button type="button" class="secondary small" disabled={i === blocks.length - 1} onClick={() => move(i, 1)} aria-label={`Move block ${i + 1} down`}>
                  Down
                </button>
                <button type="button" class="secondary small" onClick={() => onChange(blocks.filter((_, j) => j !== i))} aria-label={`Remove block ${i + 1}`}>
                  Remove
                </button>
              </div>
            </fieldset>
          </li>
        ))}
      </ol>
      <div class="actions add-block">
        <Field id="add-block-type" label="New block" class="inline">
          {(a) => (
            <select {...a} value={adding} onChange={(e) => setAdding(e.currentTarget.value as BlockType)}>
              {(['heading', 'text', 'button', 'image', 'divider', 'html'] as const).map((t) => (
                <option value={t}>{BLOCK_LABELS[t]}</option>
              ))}
            </select>
          )}
        </Field>
        <button type="button" class="secondary" onClick={() => onChange([...blocks, emptyBlock(adding)])}>
          Add block
        </button>
      </div>
    </div>
  );
}

const STARTER: Block[] = [
  { type: 'heading', text: 'Hello {{ contact.first_name | default: "there" }}' },
  { type: 'text', text: '' },
  { type: 'html', html: '<p style="font-size:12px;color:#666666"><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>' },
];

async function loadEditor(id: number | null) {
  const get = <T,>(p: Promise<T[]>) => p.catch(() => [] as T[]);
  const [email, categories, fields] = await Promise.all([
    id ? load(api.GET('/api/v1/emails/{id}', { params: { path: { id } } })) : Promise.resolve(null),
    get(allPages<Category>((cursor) => load(api.GET('/api/v1/email-categories', { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } })))),
    get(allPages<components['schemas']['Field']>((cursor) => load(api.GET('/api/v1/fields', { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } })))),
  ]);
  const variables = [...BUILT_IN.filter((v) => v.group === 'Contact'), ...fields.map((f) => customVariable(f.key, f.label)), ...BUILT_IN.filter((v) => v.group !== 'Contact')];
  return { email, categories, variables };
}

function EmailEditor({ id }: { id: number | null }) {
  const { route, query } = useLocation();
  const data = useLoad(() => loadEditor(id), String(id));
  if (data.state === 'loading') return <Loading what="the email" />;
  if (data.state === 'error') return <ErrorMessage message={data.message} retry={data.retry} />;
  return <EditorForm key={data.data.email?.id ?? 'new'} {...data.data} justSaved={query.saved === '1'} onCreated={(e) => route(`/app/emails/${e.id}?saved=1`, true)} />;
}

const orNull = (s: string) => (s.trim() ? s.trim() : null);

function EditorForm(props: { email: Email | null; categories: Category[]; variables: Variable[]; justSaved: boolean; onCreated: (e: Email) => void }) {
  const [saved, setSaved] = useState(props.email);
  const e = saved;
  const [name, setName] = useState(e?.name ?? '');
  const [kind, setKind] = useState<Kind>(e?.kind ?? 'template');
  const [subject, setSubject] = useState(e?.subject ?? '');
  const [preheader, setPreheader] = useState(e?.preheader ?? '');
  const [fromName, setFromName] = useState(e?.from_name ?? '');
  const [fromEmail, setFromEmail] = useState(e?.from_email ?? '');
  const [replyTo, setReplyTo] = useState(e?.reply_to ?? '');
  const [category, setCategory] = useState(e?.category_id ? String(e.category_id) : '');
  const [mode, setMode] = useState<'blocks' | 'html'>(!e || e.html.includes('<!-- block:') ? 'blocks' : 'html');
  const [blocks, setBlocks] = useState<Block[]>(() => (e ? htmlToBlocks(e.html) : STARTER));
  const [html, setHtml] = useState(e?.html ?? '');
  const saver = useSaver();
  const deleter = useSaver();
  const [confirming, setConfirming] = useState(false);
  const { route } = useLocation();
  const { into, insert } = useInsertion();

  useEffect(() => void (document.title = `${e ? e.name : 'New email'} · Emails · Leadline`), [e?.name]);

  const currentHtml = mode === 'blocks' ? blocksToHtml(blocks) : html;
  const body = {
    name: name.trim(),
    kind,
    subject: subject.trim(),
    preheader: orNull(preheader),
    from_name: orNull(fromName),
    from_email: orNull(fromEmail),
    reply_to: orNull(replyTo),
    html: currentHtml,
    category_id: category ? Number(category) : null,
  };
  const savedBody = e
    ? { name: e.name, kind: e.kind, subject: e.subject, preheader: e.preheader, from_name: e.from_name, from_email: e.from_email, reply_to: e.reply_to, html: e.html, category_id: e.category_id }
    : null;
  const dirty = !savedBody || JSON.stringify(body) !== JSON.stringify(savedBody);

  const switchMode = (m: 'blocks' | 'html') => {
    if (m === mode) return;
    if (m === 'html') setHtml(blocksToHtml(blocks));
    else setBlocks(htmlToBlocks(html));
    setMode(m);
  };

  /** Saves; resolves with the email as stored, or null when the server said no (its errors are shown). */
  const save = async (): Promise<Email | null> => {
    if (!e) {
      const created = await saver.run(() => send(api.POST('/api/v1/emails', { body })), 'Email saved.');
      if (created) props.onCreated(created);
      return created ?? null;
    }
    const updated = await saver.run(() => send(api.PATCH('/api/v1/emails/{id}', { params: { path: { id: e.id } }, body })), 'Saved.');
    if (updated) setSaved(updated);
    return updated ?? null;
  };

  // In block mode, an error the server places at a line of the HTML is shown in the block that made that line.
  const htmlError = saver.fieldError('html');
  const errorLine = htmlError ? /\bline (\d+)/.exec(htmlError) : null;
  const errorAt = mode === 'blocks' && errorLine ? blockAtLine(blocks, Number(errorLine[1])) : null;
  const blockError = errorAt !== null && htmlError ? { at: errorAt, message: htmlError } : undefined;

  const shown = ['name', 'kind', 'subject', 'preheader', 'from_name', 'from_email', 'reply_to', 'category_id', 'html'];
  return (
    <section class="email-editor">
      <p class="crumbs">
        <a href="/app/emails">Emails</a>
      </p>
      <h1 tabIndex={-1}>{e ? e.name : 'New email'}</h1>
      {e && (
        <p class="lead">
          {kindLabel(e.kind)} · updated {formatDateTime(e.updated_at)} · <a href={`/app/emails/${e.id}/report`}>Report and click map</a>
          {e.kind === 'broadcast' && (
            <>
              {' '}
              · <a href={`/app/broadcasts/new?email=${e.id}`}>Broadcast it</a>
            </>
          )}
        </p>
      )}
      {props.justSaved && saver.state === 'idle' && (
        <p class="status saved" role="status">
          Email saved.
        </p>
      )}
      <form
        class="stack"
        noValidate
        onSubmit={(ev) => {
          ev.preventDefault();
          void save();
        }}
      >
        <div class="form-grid">
          <Field id="email-name" label="Name" hint="For you; recipients do not see it." error={saver.fieldError('name')}>
            {(a) => <input {...a} type="text" maxLength={200} value={name} onInput={(ev) => setName(ev.currentTarget.value)} />}
          </Field>
          <Field id="email-kind" label="Kind" error={saver.fieldError('kind')}>
            {(a) => (
              <select {...a} value={kind} onChange={(ev) => setKind(ev.currentTarget.value as Kind)}>
                <option value="template">Template (API and campaigns)</option>
                <option value="broadcast">Broadcast (to segments)</option>
                <option value="transactional">Transactional (receipts, resets)</option>
              </select>
            )}
          </Field>
          <Field id="email-subject" label="Subject" error={saver.fieldError('subject')}>
            {(a) => <input {...a} {...into(setSubject)} type="text" maxLength={998} value={subject} onInput={(ev) => setSubject(ev.currentTarget.value)} />}
          </Field>
          <Field id="email-preheader" label="Preheader (optional)" hint="The summary inboxes show after the subject." error={saver.fieldError('preheader')}>
            {(a) => <input {...a} {...into(setPreheader)} type="text" maxLength={500} value={preheader} onInput={(ev) => setPreheader(ev.currentTarget.value)} />}
          </Field>
          <Field id="email-from-name" label="From name (optional)" hint="Empty: the server’s default sender." error={saver.fieldError('from_name')}>
            {(a) => <input {...a} type="text" maxLength={200} value={fromName} onInput={(ev) => setFromName(ev.currentTarget.value)} />}
          </Field>
          <Field id="email-from-email" label="From address (optional)" error={saver.fieldError('from_email')}>
            {(a) => <input {...a} type="email" maxLength={254} value={fromEmail} onInput={(ev) => setFromEmail(ev.currentTarget.value)} />}
          </Field>
          <Field id="email-reply-to" label="Reply-to (optional)" error={saver.fieldError('reply_to')}>
            {(a) => <input {...a} type="email" maxLength={254} value={replyTo} onInput={(ev) => setReplyTo(ev.currentTarget.value)} />}
          </Field>
          <Field
            id="email-category"
            label="Subscription category"
            hint={kind === 'transactional' ? 'Transactional emails ignore category unsubscribes.' : 'Contacts who left this category do not get it.'}
            error={saver.fieldError('category_id')}
          >
            {(a) => (
              <select {...a} value={category} onChange={(ev) => setCategory(ev.currentTarget.value)}>
                <option value="">{kind === 'transactional' ? 'None' : 'Default (marketing)'}</option>
                {props.categories.map((c) => (
                  <option value={String(c.id)}>{c.name}</option>
                ))}
              </select>
            )}
          </Field>
        </div>

        <LiquidHelper variables={props.variables} insert={insert} />

        <fieldset class="content">
          <legend>Content</legend>
          <div class="mode" role="group" aria-label="Editing mode">
            <label class="check">
              <input type="radio" name="email-mode" checked={mode === 'blocks'} onChange={() => switchMode('blocks')} /> Blocks
            </label>
            <label class="check">
              <input type="radio" name="email-mode" checked={mode === 'html'} onChange={() => switchMode('html')} /> HTML source
            </label>
          </div>
          {saver.fieldError('html') && !blockError && (
            <p class="field-error" id="email-html-error" role="alert">
              {saver.fieldError('html')}
            </p>
          )}
          {mode === 'blocks' ? (
            <BlockEditor blocks={blocks} onChange={setBlocks} into={into} error={blockError} />
          ) : (
            <Field id="email-html" label="HTML" hint="Liquid: {{ contact.first_name }}; output is escaped unless | raw. CSS in <style> is inlined when saved.">
              {(a) => (
                <textarea
                  {...a}
                  {...into(setHtml)}
                  aria-describedby={`${a['aria-describedby'] ?? ''}${saver.fieldError('html') ? ' email-html-error' : ''}`.trim() || undefined}
                  aria-invalid={saver.fieldError('html') ? 'true' : undefined}
                  class="code"
                  rows={18}
                  spellcheck={false}
                  value={html}
                  onInput={(ev) => setHtml(ev.currentTarget.value)}
                />
              )}
            </Field>
          )}
        </fieldset>

        <div class="actions">
          <button type="submit" disabled={saver.busy}>
            {saver.busy ? 'Saving…' : e ? 'Save changes' : 'Save email'}
          </button>
          {e && !dirty && <span class="hint">No unsaved changes.</span>}
        </div>
        <SaveStatus status={saver.status} shown={shown} />
      </form>
      {e && <PreviewAndTest email={e} dirty={dirty} save={save} />}
      {e && (
        <div class="danger-zone">
          {confirming ? (
            <Confirm
              question={`Delete “${e.name}”? Sends already made stay listed in contacts’ histories.`}
              yes="Delete email"
              busy={deleter.busy}
              onNo={() => setConfirming(false)}
              onYes={async () => {
                const ok = await deleter.run(() => send(api.DELETE('/api/v1/emails/{id}', { params: { path: { id: e.id } } })), 'Deleted.');
                setConfirming(false);
                if (ok) route(`/app/emails?deleted=${encodeURIComponent(e.name)}`);
              }}
            />
          ) : (
            <div class="actions">
              <button type="button" class="danger" onClick={() => setConfirming(true)}>
                Delete email…
              </button>
            </div>
          )}
          <SaveStatus status={deleter.status} />
        </div>
      )}
    </section>
  );
}

function ContactPicker(props: { value: Contact | null; onChange: (c: Contact | null) => void }) {
  const [q, setQ] = useState('');
  const [found, setFound] = useState<Contact[]>([]);
  const [problem, setProblem] = useState('');
  useEffect(() => {
    const t = setTimeout(async () => {
      try {
        const r = await load(api.GET('/api/v1/contacts', { params: { query: { limit: 20, ...(q.trim() ? { q: q.trim() } : {}) } } }));
        setFound(r.data);
        setProblem('');
      } catch (err) {
        setProblem((err as Error).message);
      }
    }, 250);
    return () => clearTimeout(t);
  }, [q]);
  const who = (c: Contact) => [c.first_name, c.last_name].filter(Boolean).join(' ') + (c.email ? ` <${c.email}>` : '');
  const options = props.value && !found.some((c) => c.id === props.value!.id) ? [props.value, ...found] : found;
  return (
    <div class="form-grid">
      <Field id="preview-search" label="Find a contact" hint="Email, first or last name.">
        {(a) => <input {...a} type="search" value={q} onInput={(ev) => setQ(ev.currentTarget.value)} />}
      </Field>
      <Field id="preview-contact" label="Preview as" error={problem || undefined}>
        {(a) => (
          <select {...a} value={props.value ? String(props.value.id) : ''} onChange={(ev) => props.onChange(options.find((c) => String(c.id) === ev.currentTarget.value) ?? null)}>
            <option value="">A contact with no data</option>
            {options.map((c) => (
              <option value={String(c.id)}>{who(c) || `Contact ${c.id}`}</option>
            ))}
          </select>
        )}
      </Field>
    </div>
  );
}

function PreviewAndTest(props: { email: Email; dirty: boolean; save: () => Promise<Email | null> }) {
  const [contact, setContact] = useState<Contact | null>(null);
  const [preview, setPreview] = useState<components['schemas']['EmailPreview'] | null>(null);
  const [info, setInfo] = useState<FrameInfo | null>(null);
  const previewer = useSaver();
  const [to, setTo] = useState('');
  const tester = useSaver();

  const show = async () => {
    if (props.dirty && !(await props.save())) return;
    const r = await previewer.run(
      () => send(api.POST('/api/v1/emails/{id}/preview', { params: { path: { id: props.email.id } }, body: contact ? { contact_id: contact.id } : {} })),
      'Preview ready.',
    );
    if (r) setPreview(r);
  };
  const test = async () => {
    if (props.dirty && !(await props.save())) return;
    await tester.run(
      () => send(api.POST('/api/v1/emails/{id}/test', { params: { path: { id: props.email.id } }, body: { to: to.trim(), ...(contact ? { contact_id: contact.id } : {}) } })),
      (s) => `Test queued to ${s.to}${contact ? `, rendered as ${contact.email ?? `contact ${contact.id}`}` : ''}; it goes out within seconds (without a provider, to the outbox).`,
    );
  };
  return (
    <>
      <section aria-labelledby="preview-heading" class="email-preview">
        <h2 id="preview-heading">Preview</h2>
        <p class="lead">Rendered by the server exactly as the chosen contact would get it (without tracking).{props.dirty ? ' Unsaved changes are saved first.' : ''}</p>
        <ContactPicker value={contact} onChange={setContact} />
        <div class="actions">
          <button type="button" onClick={show} disabled={previewer.busy}>
            {previewer.busy ? 'Rendering…' : props.dirty ? 'Save and preview' : 'Preview'}
          </button>
        </div>
        <SaveStatus status={previewer.status} />
        {preview && (
          <div class="preview-result">
            <dl class="facts">
              <dt>From</dt>
              <dd>{preview.from}</dd>
              <dt>To</dt>
              <dd>{preview.to ?? '(no address)'}</dd>
              <dt>Subject</dt>
              <dd class="preview-subject">{preview.subject}</dd>
            </dl>
            {info && info.blockedImages > 0 && (
              <p class="hint">
                {info.blockedImages} {info.blockedImages === 1 ? 'image' : 'images'} from other sites not shown here (the dashboard loads nothing from elsewhere); recipients see them.
              </p>
            )}
            <EmailFrame html={preview.html} title={`Preview of “${preview.subject}”`} onReady={setInfo} />
            <details class="json">
              <summary>Plain text</summary>
              <pre>{preview.text}</pre>
            </details>
          </div>
        )}
      </section>
      <section aria-labelledby="test-heading" class="email-test">
        <h2 id="test-heading">Send a test</h2>
        <p class="lead">To any address, marked as a test and not counted. Uses the contact chosen for the preview, if any.</p>
        <form
          class="stack"
          noValidate
          onSubmit={(ev) => {
            ev.preventDefault();
            void test();
          }}
        >
          <Field id="test-to" label="Send to" error={tester.fieldError('to')}>
            {(a) => <input {...a} type="email" maxLength={254} value={to} onInput={(ev) => setTo(ev.currentTarget.value)} />}
          </Field>
          <div class="actions">
            <button type="submit" disabled={tester.busy}>
              {tester.busy ? 'Sending…' : 'Send test'}
            </button>
          </div>
          <SaveStatus status={tester.status} shown={['to']} />
        </form>
      </section>
    </>
  );
}

export default function Emails() {
  const { params } = useRoute();
  if (params.id && !can('emails', 'change')) {
    // Writing, previewing and test sends are for roles that may change emails; the server would refuse them anyway.
    return (
      <section class="email-editor">
        <p class="crumbs">
          <a href="/app/emails">Emails</a>
        </p>
        <h1 tabIndex={-1}>{params.id === 'new' ? 'New email' : 'Edit email'}</h1>
        <Refused message={refusal('emails', 'change')}>
          <p>
            You can see every email and its report in the <a href="/app/emails">list of emails</a>. An admin can change your role in Settings → Users and roles.
          </p>
        </Refused>
      </section>
    );
  }
  if (params.id === 'new') return <EmailEditor id={null} />;
  if (params.id) {
    const id = Number(params.id);
    if (!Number.isSafeInteger(id) || id <= 0) return <ErrorMessage message="There is no email at this address." />;
    return <EmailEditor key={id} id={id} />;
  }
  return <EmailList />;
}
