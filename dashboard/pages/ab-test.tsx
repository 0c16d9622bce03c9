// A page's A/B test in its editor: the variants (name, title, weight: the split; the original
// gets what they leave), the goal and the automatic winner's settings (PATCH /pages/{id}
// ab_test), the figures per variant and picking the winner (dashboard/pages/ab-stats.tsx).
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api/client';
import type { components } from '../api/schema';
import { can } from '../access';
import { Confirm, Field, SaveStatus, send, useSaver } from '../ui/editing';
import { formatDateTime } from '../ui/format';
import { ErrorMessage, Loading } from '../ui/status';
import { useLoad } from '../ui/use-load';
import { AbStats, type TestStats } from './ab-stats';
import { bodyOf, draftOf, sectionDraft, type Page, type SectionDraft } from './model';
import { SectionsEditor } from './sections';

type S = components['schemas'];
type Variant = S['PageVariant'];
type Goal = S['PageAbGoal'];

interface Row {
  id: number;
  name: string;
  title: string;
  weight: string;
  sections: SectionDraft[];
  /** Its sections' editor is open. */
  open: boolean;
}
const rowOf = (v: Variant): Row => ({ id: v.id, name: v.name, title: v.title, weight: String(v.weight), sections: v.sections.map((s) => sectionDraft(s.type, s)), open: false });
/** The sections as the API takes them (the page editor's conversion). */
const sectionsOf = (sections: SectionDraft[]) => bodyOf({ ...draftOf(null), sections }).sections;
/** A number when the text is one; else the text, for the server to refuse by name. */
const num = (s: string) => (s.trim() !== '' && Number.isFinite(Number(s)) ? Number(s) : s) as number;

async function loadTest(page: Page): Promise<{ variants: Variant[]; stats: TestStats | null }> {
  const id = page.id;
  const v = await send(api.GET('/api/v1/pages/{id}/variants', { params: { path: { id } } }));
  // Figures exist for a running test (variants besides the original) or one that ended with a winner; else the server answers 404.
  if (v.data.length < 2 && !page.ab_test.last_winner) return { variants: v.data, stats: null };
  const s = await send(api.GET('/api/v1/pages/{id}/variants/stats', { params: { path: { id } } }));
  return { variants: v.data, stats: s };
}

export function AbTestPanel(props: { page: Page; forms: S['Form'][]; dirty: boolean; onPage: (p: Page, content: boolean) => void }) {
  const { page } = props;
  const editable = can('pages', 'change');
  const [round, setRound] = useState(0);
  const test = useLoad(() => loadTest(page), `${page.id}:${round}`);
  const reload = () => setRound((r) => r + 1);
  // While it reloads after a change, the panel keeps showing what it had (and its messages).
  const last = useRef<{ variants: Variant[]; stats: TestStats | null } | null>(null);
  if (test.state === 'done') last.current = test.data;
  const data = last.current;
  return (
    <section class="card stack ab-test" aria-labelledby="ab-heading">
      <h2 id="ab-heading">A/B test</h2>
      <p class="hint">
        Variants of this page, each with its own title and sections, split the visitors by weight; each visitor sees the same variant on every visit. A conversion is the goal below, after the
        visitor’s first view.
      </p>
      {page.ab_test.last_winner && (
        <p class="hint last-winner">
          Last test: “{page.ab_test.last_winner.variant_name}” won, picked {page.ab_test.last_winner.picked_by === 'auto' ? 'automatically' : 'by hand'} on{' '}
          {formatDateTime(page.ab_test.last_winner.picked_at)}.
        </p>
      )}
      <GoalSettings page={page} forms={props.forms} editable={editable} onSaved={(p) => (props.onPage(p, false), reload())} />
      {test.state === 'loading' && !data && <Loading what="the variants" />}
      {test.state === 'error' && <ErrorMessage message={test.message} retry={test.retry} />}
      {data && (
        <>
          <Variants page={page} variants={data.variants} forms={props.forms} editable={editable} onChanged={reload} />
          {data.stats ? (
            <Winner page={page} stats={data.stats} editable={editable} dirty={props.dirty} onPicked={(p) => (props.onPage(p, true), reload())} />
          ) : (
            <p class="hint">No figures yet: this page has never had a test.</p>
          )}
        </>
      )}
    </section>
  );
}

function GoalSettings(props: { page: Page; forms: S['Form'][]; editable: boolean; onSaved: (p: Page) => void }) {
  const ab = props.page.ab_test;
  const [goal, setGoal] = useState<Goal>(ab.goal);
  const [min, setMin] = useState(String(ab.min_visitors));
  const [confidence, setConfidence] = useState(String(ab.confidence));
  const [auto, setAuto] = useState(ab.auto_winner);
  const saver = useSaver();
  const e = (f: string) => saver.fieldError(`ab_test.${f}`);
  const save = async (ev: Event) => {
    ev.preventDefault();
    const body = { ab_test: { goal, min_visitors: num(min), confidence: num(confidence), auto_winner: auto } };
    const p = await saver.run(() => send(api.PATCH('/api/v1/pages/{id}', { params: { path: { id: props.page.id } }, body })), 'Goal and settings saved.');
    if (p) props.onSaved(p);
  };
  const setType = (t: Goal['type']) => setGoal(t === 'form_submitted' ? { type: t, form_id: null } : t === 'cta_click' ? { type: t, cta_id: null } : { type: t, event_name: '' });
  return (
    <form class="stack" noValidate onSubmit={save} aria-label="Goal and winner settings">
      <h3>Goal and winner</h3>
      <fieldset class="bare stack" disabled={!props.editable}>
        <div class="form-grid">
          <Field id="ab-goal" label="Conversion goal" error={e('goal.type') ?? e('goal')}>
            {(a) => (
              <select {...a} value={goal.type} onChange={(x) => setType(x.currentTarget.value as Goal['type'])}>
                <option value="form_submitted">A form is submitted</option>
                <option value="cta_click">A button is clicked</option>
                <option value="custom_event">A custom event is sent</option>
              </select>
            )}
          </Field>
          {goal.type === 'form_submitted' && (
            <Field id="ab-goal-form" label="Goal form" error={e('goal.form_id')}>
              {(a) => (
                <select {...a} value={String(goal.form_id ?? '')} onChange={(x) => setGoal({ type: 'form_submitted', form_id: x.currentTarget.value ? Number(x.currentTarget.value) : null })}>
                  <option value="">Any form on the page</option>
                  {props.forms.map((f) => (
                    <option value={String(f.id)}>{f.name}</option>
                  ))}
                </select>
              )}
            </Field>
          )}
          {goal.type === 'cta_click' && (
            <Field id="ab-goal-cta" label="Button id (optional)" hint="Empty: any button of the page." error={e('goal.cta_id')}>
              {(a) => <input {...a} value={goal.cta_id ?? ''} autocomplete="off" onInput={(x) => setGoal({ type: 'cta_click', cta_id: x.currentTarget.value.trim() || null })} />}
            </Field>
          )}
          {goal.type === 'custom_event' && (
            <Field id="ab-goal-event" label="Event name" hint="A custom event the site sends (leadline.track)." error={e('goal.event_name')}>
              {(a) => <input {...a} value={goal.event_name} autocomplete="off" onInput={(x) => setGoal({ type: 'custom_event', event_name: x.currentTarget.value })} />}
            </Field>
          )}
          <Field id="ab-min" label="Minimum sample (visitors per variant)" hint="The automatic winner waits until every variant with traffic has this many." error={e('min_visitors')}>
            {(a) => <input {...a} inputMode="numeric" value={min} onInput={(x) => setMin(x.currentTarget.value)} />}
          </Field>
          <Field id="ab-confidence" label="Confidence (%)" hint="80 to 99.9." error={e('confidence')}>
            {(a) => <input {...a} inputMode="decimal" value={confidence} onInput={(x) => setConfidence(x.currentTarget.value)} />}
          </Field>
        </div>
        <label class="check" for="ab-auto">
          <input id="ab-auto" type="checkbox" checked={auto} onChange={(x) => setAuto(x.currentTarget.checked)} /> Pick the winner automatically once the minimum sample is reached and a variant beats the
          original significantly
        </label>
      </fieldset>
      {props.editable && (
        <div class="actions">
          <button type="submit" class="secondary" disabled={saver.busy}>
            Save goal and settings
          </button>
        </div>
      )}
      <SaveStatus status={saver.status} shown={['ab_test.goal', 'ab_test.min_visitors', 'ab_test.confidence']} />
    </form>
  );
}

function Variants(props: { page: Page; variants: Variant[]; forms: S['Form'][]; editable: boolean; onChanged: () => void }) {
  const saved = props.variants.filter((v) => !v.control);
  const [rows, setRows] = useState<Row[]>(() => saved.map(rowOf));
  // Saved, added or deleted: the rows are the server's again.
  useEffect(() => setRows((old) => saved.map((v) => ({ ...rowOf(v), open: !!old.find((r) => r.id === v.id)?.open }))), [props.variants]);
  const [name, setName] = useState('');
  const [weight, setWeight] = useState(() => String(saved.length ? 0 : 50));
  const [deleting, setDeleting] = useState<Row | null>(null);
  /** The variant the last save stopped at: the server's errors are its. */
  const [at, setAt] = useState<number | null>(null);
  const saver = useSaver();
  const adder = useSaver();
  const deleter = useSaver();
  const put = (id: number, p: Partial<Row>) => setRows((rs) => rs.map((r) => (r.id === id ? { ...r, ...p } : r)));
  const sum = rows.reduce((s, r) => s + (Number(r.weight) || 0), 0);
  const changed = rows.filter((r) => {
    const v = saved.find((x) => x.id === r.id);
    // (A row of a variant just deleted or ended, until the rows follow the server's list.)
    return !!v && (r.name !== v.name || r.title !== v.title || r.weight !== String(v.weight) || JSON.stringify(sectionsOf(r.sections)) !== JSON.stringify(v.sections));
  });
  const ref = (id: number) => ({ params: { path: { id: props.page.id, variantId: id } } });
  const saveAll = async () => {
    // Lowered weights first: the variants' sum stays within what the server takes on the way.
    const order = [...changed].sort((a, b) => num(a.weight) - Number(saved.find((x) => x.id === a.id)!.weight) - (num(b.weight) - Number(saved.find((x) => x.id === b.id)!.weight)));
    const ok = await saver.run(async () => {
      for (const r of order) {
        setAt(r.id);
        await send(api.PATCH('/api/v1/pages/{id}/variants/{variantId}', { ...ref(r.id), body: { name: r.name, title: r.title, weight: num(r.weight), sections: sectionsOf(r.sections) } }));
      }
      return true;
    }, 'Variants saved: visitors get the new split from their next view.');
    if (ok) props.onChanged();
  };
  const add = async (ev: Event) => {
    ev.preventDefault();
    const ok = await adder.run(() => send(api.POST('/api/v1/pages/{id}/variants', { params: { path: { id: props.page.id } }, body: { name, weight: num(weight) } })), (v) => `Variant “${v.name}” added.`);
    if (ok) {
      setName('');
      setWeight('0');
      props.onChanged();
    }
  };
  const remove = async (r: Row) => {
    const ok = await deleter.run(() => send(api.DELETE('/api/v1/pages/{id}/variants/{variantId}', ref(r.id))), `Variant “${r.name}” deleted.`);
    setDeleting(null);
    if (ok) props.onChanged();
  };
  const e = (id: number, f: string) => (id === at ? saver.fieldError(f) : undefined);
  return (
    <div class="stack">
      <h3>Variants and split</h3>
      {rows.length === 0 ? (
        <p class="hint">No test is running: every visitor sees the page as it is. Add a variant to start one (it starts as a copy of the page; edit its title and sections below).</p>
      ) : (
        <p class="hint">
          The original page gets {Math.max(0, 100 - sum)}% of visitors; the variants {sum}% (at most 99 together).
        </p>
      )}
      {rows.length > 0 && (
        <ol class="card-list stack">
          {rows.map((r) => (
            <li class="card variant-card" key={r.id} data-variant={r.id}>
              <fieldset class="bare stack" disabled={!props.editable}>
                <legend>Variant “{saved.find((v) => v.id === r.id)?.name}”</legend>
                <div class="form-grid">
                  <Field id={`variant-${r.id}-name`} label="Name" error={e(r.id, 'name')}>
                    {(a) => <input {...a} value={r.name} onInput={(x) => put(r.id, { name: x.currentTarget.value })} />}
                  </Field>
                  <Field id={`variant-${r.id}-title`} label="Title" error={e(r.id, 'title')}>
                    {(a) => <input {...a} value={r.title} onInput={(x) => put(r.id, { title: x.currentTarget.value })} />}
                  </Field>
                  <Field id={`variant-${r.id}-weight`} label="Weight (% of visitors)" error={e(r.id, 'weight')}>
                    {(a) => <input {...a} inputMode="numeric" value={r.weight} onInput={(x) => put(r.id, { weight: x.currentTarget.value })} />}
                  </Field>
                </div>
                {r.open && (
                  <SectionsEditor
                    d={{ ...draftOf(null), sections: r.sections }}
                    set={(p) => p.sections && put(r.id, { sections: p.sections })}
                    errors={r.id === at && saver.state === 'error' ? saver.fields : {}}
                    forms={props.forms}
                    prefix={`variant-${r.id}-`}
                    legend={`Sections of “${r.name}”`}
                  />
                )}
                <div class="actions">
                  <button type="button" class="secondary small" aria-expanded={r.open} onClick={() => put(r.id, { open: !r.open })}>
                    {r.open ? 'Hide sections' : 'Edit sections'}
                    <span class="sr-only"> of {r.name}</span>
                  </button>
                </div>
                {props.editable && (
                  <div class="actions">
                    <button type="button" class="secondary small danger-text" onClick={() => setDeleting(r)}>
                      Delete variant<span class="sr-only"> {r.name}</span>
                    </button>
                  </div>
                )}
              </fieldset>
            </li>
          ))}
        </ol>
      )}
      {deleting && (
        <Confirm
          question={`Delete variant “${deleting.name}”? Its visitors leave the test${rows.length === 1 ? '; it is the last one, so the test and its counts are discarded' : ''}.`}
          yes="Delete variant"
          busy={deleter.busy}
          onYes={() => void remove(deleting)}
          onNo={() => setDeleting(null)}
        />
      )}
      <SaveStatus status={deleter.status} />
      {props.editable && rows.length > 0 && (
        <div class="actions">
          <button type="button" disabled={saver.busy || changed.length === 0} onClick={() => void saveAll()}>
            Save variants
          </button>
          {changed.length > 0 && <span class="hint">Unsaved changes to the variants.</span>}
        </div>
      )}
      <SaveStatus status={saver.status} shown={['name', 'title', 'weight']} />
      {props.editable && rows.length < 9 && (
        <form class="stack add-variant" noValidate onSubmit={add} aria-label="New variant">
          <div class="form-grid">
            <Field id="new-variant-name" label="New variant’s name" error={adder.fieldError('name')}>
              {(a) => <input {...a} value={name} placeholder="Shorter headline" onInput={(x) => setName(x.currentTarget.value)} />}
            </Field>
            <Field id="new-variant-weight" label="Its weight (% of visitors)" error={adder.fieldError('weight')}>
              {(a) => <input {...a} inputMode="numeric" value={weight} onInput={(x) => setWeight(x.currentTarget.value)} />}
            </Field>
          </div>
          <div class="actions">
            <button type="submit" class="secondary" disabled={adder.busy}>
              {rows.length ? 'Add variant' : 'Add variant and start the test'}
            </button>
          </div>
          <SaveStatus status={adder.status} shown={['name', 'weight']} />
        </form>
      )}
    </div>
  );
}

function Winner(props: { page: Page; stats: TestStats; editable: boolean; dirty: boolean; onPicked: (p: Page) => void }) {
  const picker = useSaver();
  const pick = async (variant_id: number) => {
    const p = await picker.run(() => send(api.POST('/api/v1/pages/{id}/winner', { params: { path: { id: props.page.id } }, body: { variant_id } })), 'Winner picked: the test has ended and the page shows the winner.');
    if (p) props.onPicked(p);
  };
  return (
    <AbStats
      stats={props.stats}
      onPick={props.editable ? (id) => void pick(id) : undefined}
      picking={picker.busy}
      pickStatus={picker.status}
      blocked={props.dirty ? 'Save or undo your changes to the page before picking a winner.' : undefined}
    />
  );
}
