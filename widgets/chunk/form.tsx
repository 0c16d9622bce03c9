// One embedded form: loads its definition (GET /f/:id), validates like the server, submits
// once per render (the submission id), and shows the server's verdict.
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Config } from './config';
import { Field } from './fields';
import type { ApiError, FormDef, SubmitOk, Value, Values } from './types';
import { checkAll, say } from './validate';
import { rid, safeUrl, track, visitorOf } from './util';

const OOPS = 'Something went wrong. Please try again.';

/** Hidden fields carry where the visitor came from, read from the host page at submit time. */
function hiddenValue(source: string | undefined, dflt: unknown): string {
  const q = new URLSearchParams(location.search);
  const v = source == 'referrer' ? document.referrer : source == 'page_url' ? location.href : source ? q.get(source) : null;
  return v || (dflt == null ? '' : String(dflt));
}

function initial(def: FormDef): Values {
  const out: Values = {};
  for (const f of def.fields) {
    const v = f.value ?? f.default;
    out[f.key] =
      f.type == 'checkbox_group' ? (Array.isArray(v) ? v.map(String) : []) : f.type == 'consent' ? v === true : v == null ? '' : String(v);
  }
  return out;
}

export interface FormProps {
  cfg: Config;
  id: string;
  /** Called after a successful submission (a focus item counts it as its conversion). */
  onDone?: () => void;
  /** The focus item showing this form, credited with the submission. */
  focus?: { id: number; variant: string };
}

export function Form({ cfg, id, onDone, focus }: FormProps) {
  const [def, setDef] = useState<FormDef | null>(null);
  const [failed, setFailed] = useState('');
  const [values, setValues] = useState<Values>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<SubmitOk | null>(null);
  // Refs, not state: two submit events in one tick must see the first one's lock.
  const lock = useRef(false);
  const sid = useRef(rid());
  const shown = useRef(0);
  // The funnel's first steps, once per render: the form shown (view), then first touched (start).
  const started = useRef(false);
  const root = useRef<HTMLFormElement>(null);
  const hp = useRef<HTMLInputElement>(null);
  const doneRef = useRef<HTMLDivElement>(null);

  // A layout effect runs in the render's own task; a plain effect would wait for a frame.
  useLayoutEffect(() => {
    const v = visitorOf(cfg);
    const q = new URLSearchParams({ k: cfg.k, ...(v ? { v } : {}) });
    fetch(`${cfg.a}/f/${encodeURIComponent(id)}?${q}`)
      .then((r) => (r.ok ? r.json() : Promise.reject()))
      .then((f: FormDef) => {
        setDef(f);
        setValues(initial(f));
        shown.current = Date.now();
        track('fmv', { form_id: +id });
      })
      .catch(() => setFailed('This form could not be loaded.'));
  }, [id]);

  // Moving focus to the outcome makes screen readers announce it (at once, not a frame later).
  useLayoutEffect(() => {
    if (done) doneRef.current?.focus();
  }, [done]);

  if (failed && !def) return <p class="err" role="alert">{failed}</p>;
  if (!def) return <p class="load" aria-busy="true" />;
  if (done) {
    const asset = safeUrl(done.asset_url);
    return (
      <div class="done" role="status" tabIndex={-1} ref={doneRef}>
        <p>{done.message || 'Thank you!'}</p>
        {asset && (
          <a class="btn" href={asset} rel="noopener">
            Download
          </a>
        )}
      </div>
    );
  }

  const set = (key: string) => (v: Value) => {
    setValues((o) => ({ ...o, [key]: v }));
    // An error goes away as soon as the value is fixed; new ones wait for the next submit.
    if (errors[key]) setErrors((e) => ({ ...e, [key]: checkAll(def.fields.filter((f) => f.key == key), { [key]: v })[key] || '' }));
  };

  // Safari does not focus a checkbox or button on click; an input event still says it.
  const start = () => started.current || ((started.current = true), track('fms', { form_id: +id }));

  const focusFirst = (errs: Record<string, string>) => {
    const first = def.fields.find((f) => errs[f.key]);
    if (first) (root.current?.querySelector(`[id="f-${first.key}"]`) as HTMLElement | null)?.focus();
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (lock.current) return;
    const errs = checkAll(def.fields, values);
    setErrors(errs);
    setFailed('');
    if (Object.keys(errs).length) return focusFirst(errs);
    lock.current = true;
    setBusy(true);
    // The server quietly drops submissions sent sooner than min_fill_ms after the form showed
    // (bots); a person with autofill can be that quick, so wait out the rest rather than be lost.
    const early = def.min_fill_ms - (Date.now() - shown.current);
    if (early > 0) await new Promise((ok) => setTimeout(ok, early + 50));
    const sent: Values = {};
    for (const f of def.fields) sent[f.key] = f.type == 'hidden' ? hiddenValue(f.source, f.default) : values[f.key];
    const v = visitorOf(cfg);
    const body = {
      k: cfg.k,
      v,
      // In consent mode a visitor id exists only once consent was given; the server wants it said.
      ...(cfg.c && v ? { c: 1 } : {}),
      sid: sid.current,
      values: sent,
      t: Date.now() - shown.current,
      hp: hp.current?.value || '',
      url: location.href,
      ref: document.referrer,
      ...(focus ? { focus_id: focus.id, focus_variant: focus.variant } : {}),
    };
    try {
      // A string body goes as text/plain: a simple request, no CORS preflight.
      const r = await fetch(def.submit_url, { method: 'POST', body: JSON.stringify(body) });
      const j = await r.json().catch(() => ({}));
      if (r.ok) {
        onDone?.();
        // The gate of /a/:slug asks who is downloading: this site's visitor, who just submitted.
        if (j.asset_url) j.asset_url += (/\?/.test(j.asset_url) ? '&' : '?') + new URLSearchParams({ k: cfg.k, ...(v ? { v } : {}) });
        const to = safeUrl(j.redirect);
        if (to) location.assign(to);
        else setDone(j as SubmitOk);
      } else {
        const err = (j as ApiError).error;
        const fieldErrs: Record<string, string> = {};
        let rest = '';
        for (const x of (r.status == 422 && err && err.details) || []) {
          const key = String(x.field || '').replace(/^values\./, '');
          const f = def.fields.find((f) => f.key == key && f.type != 'hidden');
          if (f) fieldErrs[key] ||= say(f, x.message);
          else rest ||= x.message;
        }
        setErrors(fieldErrs);
        setFailed(Object.keys(fieldErrs).length ? rest : rest || (err && err.message) || OOPS);
        focusFirst(fieldErrs);
      }
    } catch {
      // Offline or blocked: the same submission id is retried, so a lost answer cannot make two.
      setFailed(OOPS);
    }
    lock.current = false;
    setBusy(false);
  };

  return (
    <form
      ref={root}
      class="ll-form"
      noValidate
      onSubmit={submit}
      onFocusIn={start}
      onInput={start}
    >
      {def.fields.map((f) =>
        f.type == 'hidden' ? null : <Field key={f.key} f={f} value={values[f.key]} error={errors[f.key]} set={set(f.key)} />,
      )}
      {/* Bots fill every input; people never see this one. */}
      <div class="hp" aria-hidden="true">
        <label>
          Leave empty <input ref={hp} name={def.honeypot} tabIndex={-1} autocomplete="off" />
        </label>
      </div>
      {failed && (
        <p class="err" role="alert">
          {failed}
        </p>
      )}
      <button class="btn" type="submit" disabled={busy} aria-busy={busy ? 'true' : undefined}>
        {def.submit_label || 'Submit'}
      </button>
    </form>
  );
}
