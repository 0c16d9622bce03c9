import { useLocation, useRoute } from 'preact-iso/router';
import { useEffect, useState } from 'preact/hooks';
import { can } from '../access';
import { api, loadJson as load } from '../api/client';
import { currentSession } from '../auth';
import { contactName, loadStages, writeResult, type FieldProblem, type Stage } from '../ui/contacts';
import { formatDateTime, formatInteger, label } from '../ui/format';
import { ErrorMessage, Loading } from '../ui/status';
import { useLoad } from '../ui/use-load';
import { CannotChange, SaveStatus, Card, Paged, type Detail, type Save } from '../contact/parts';
import { Profile } from '../contact/profile';
import { Deals, SalesFeedback } from '../contact/sales';
import { Timeline } from '../contact/timeline';

// One contact: who they are (editable, each server error next to the field it names), tags,
// stage, points and their history, sales feedback, deals, companies, segments, campaigns, emails
// and the timeline — newest first, paged, with what they did as an anonymous visitor before they
// were identified.


function Tags({ contact, changed }: { contact: Detail; changed: (tags: string[]) => void }) {
  const mayEdit = can('contacts', 'change');
  const [tag, setTag] = useState('');
  const [save, setSave] = useState<Save>({ state: 'idle' });
  const add = async (e: Event) => {
    e.preventDefault();
    if (!tag.trim()) return setSave({ state: 'error', message: 'Enter a tag to add.' });
    setSave({ state: 'saving' });
    const r = await writeResult(api.POST('/api/v1/contacts/{id}/tags', { params: { path: { id: contact.id } }, body: { tags: [tag.trim()] } }));
    if (!r.ok) return setSave({ state: 'error', message: r.fields[0]?.message ? `Tag ${r.fields[0].message}` : r.message });
    setTag('');
    changed(r.data.tags);
    setSave({ state: 'saved', message: 'Tag added.' });
  };
  const remove = async (t: string) => {
    setSave({ state: 'saving' });
    const r = await writeResult(api.DELETE('/api/v1/contacts/{id}/tags/{tag}', { params: { path: { id: contact.id, tag: t } } }));
    if (!r.ok) return setSave({ state: 'error', message: r.message });
    changed(contact.tags.filter((x) => x !== t));
    setSave({ state: 'saved', message: `Removed “${t}”.` });
  };
  return (
    <>
      {contact.tags.length === 0 ? (
        <p class="hint">No tags yet. Tags group contacts for segments, campaigns and the list’s filter.</p>
      ) : (
        <ul class="plain-list inline-tags">
          {contact.tags.map((t) => (
            <li>
              <span class="tag">{t}</span>
              {mayEdit && (
                <button type="button" class="link" onClick={() => remove(t)} aria-label={`Remove tag ${t}`}>
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {mayEdit ? (
        <form onSubmit={add} class="inline-form">
          <label for="tag-add">New tag</label>
          <input id="tag-add" value={tag} maxLength={64} onInput={(e) => setTag(e.currentTarget.value)} aria-describedby="tag-status" />
          <button type="submit" disabled={save.state === 'saving'}>
            Add tag
          </button>
          <SaveStatus save={save} id="tag-status" />
        </form>
      ) : (
        <CannotChange area="contacts" />
      )}
    </>
  );
}

function StageAndPoints({ contact, stages, changed }: { contact: Detail; stages: Stage[] | null; changed: (c: Partial<Detail>) => void }) {
  const mayChange = can('contact-scoring', 'change');
  const [stage, setStage] = useState(contact.stage_id === null ? '' : String(contact.stage_id));
  const [stageSave, setStageSave] = useState<Save>({ state: 'idle' });
  const [adjust, setAdjust] = useState({ op: 'add', value: '', reason: '' });
  const [pointsSave, setPointsSave] = useState<Save>({ state: 'idle' });
  const [problems, setProblems] = useState<FieldProblem[]>([]);
  const [historyKey, setHistoryKey] = useState(0);

  const saveStage = async (e: Event) => {
    e.preventDefault();
    setStageSave({ state: 'saving' });
    const user = currentSession();
    const by = user.state === 'signed-in' ? user.user.name || user.user.email : undefined;
    const r = await writeResult(
      api.PUT('/api/v1/contacts/{id}/stage', { params: { path: { id: contact.id } }, body: { stage_id: stage ? Number(stage) : null, ...(by ? { by } : {}) } }),
    );
    if (!r.ok) return setStageSave({ state: 'error', message: r.message });
    changed({ stage_id: r.data.stage_id });
    setStageSave({ state: 'saved', message: 'Stage saved.' });
  };
  const savePoints = async (e: Event) => {
    e.preventDefault();
    const value = Number(adjust.value);
    const local: FieldProblem[] = [];
    if (!/^-?\d+$/.test(adjust.value.trim())) local.push({ field: 'value', message: 'Enter a whole number.' });
    if (!adjust.reason.trim()) local.push({ field: 'reason', message: 'Say why: it is kept in the point history.' });
    setProblems(local);
    if (local.length) return setPointsSave({ state: 'error', message: 'Not saved: see the fields above.' });
    setPointsSave({ state: 'saving' });
    const r = await writeResult(
      api.POST('/api/v1/contacts/{id}/points', { params: { path: { id: contact.id } }, body: { op: adjust.op as 'add', value, reason: adjust.reason.trim() } }),
    );
    if (!r.ok) {
      setProblems(r.fields);
      return setPointsSave({ state: 'error', message: r.message });
    }
    changed({ points: r.data.points });
    setAdjust({ op: 'add', value: '', reason: '' });
    setHistoryKey((k) => k + 1);
    setPointsSave({ state: 'saved', message: `Saved: ${formatInteger(r.data.points)} points.` });
  };
  const p = (f: string) => problems.find((x) => x.field === f);
  return (
    <>
      {mayChange ? (
        <form onSubmit={saveStage} class="inline-form">
          <label for="stage-select">Stage</label>
          <select id="stage-select" value={stage} onChange={(e) => setStage(e.currentTarget.value)}>
            <option value="">No stage</option>
            {stages?.map((s) => (
              <option value={String(s.id)}>
                {s.name}
                {s.is_mql ? ' (marketing-qualified)' : ''}
              </option>
            ))}
          </select>
          <button type="submit" disabled={stageSave.state === 'saving'}>
            Change stage
          </button>
          <SaveStatus save={stageSave} />
        </form>
      ) : (
        <CannotChange area="contact-scoring" />
      )}
      <h3 class="subhead">Points: {formatInteger(contact.points)}</h3>
      {mayChange ? (
        <form onSubmit={savePoints} noValidate>
          <div class="form-grid">
            <div class="field">
              <label for="points-op">Change</label>
              <select id="points-op" value={adjust.op} onChange={(e) => setAdjust({ ...adjust, op: e.currentTarget.value })}>
                <option value="add">Add</option>
                <option value="subtract">Subtract</option>
                <option value="set">Set to</option>
              </select>
            </div>
            <div class="field">
              <label for="points-value">Points</label>
              <input id="points-value" inputMode="numeric" value={adjust.value} onInput={(e) => setAdjust({ ...adjust, value: e.currentTarget.value })} aria-invalid={p('value') ? 'true' : undefined} aria-describedby={p('value') ? 'points-value-error' : undefined} />
              {p('value') && (
                <p id="points-value-error" class="field-error">
                  {p('value')!.message}
                </p>
              )}
            </div>
            <div class="field">
              <label for="points-reason">Reason</label>
              <input id="points-reason" maxLength={200} value={adjust.reason} onInput={(e) => setAdjust({ ...adjust, reason: e.currentTarget.value })} aria-invalid={p('reason') ? 'true' : undefined} aria-describedby={p('reason') ? 'points-reason-error' : undefined} />
              {p('reason') && (
                <p id="points-reason-error" class="field-error">
                  {p('reason')!.message}
                </p>
              )}
            </div>
          </div>
          <div class="form-actions">
            <button type="submit" disabled={pointsSave.state === 'saving'}>
              Save points
            </button>
            <SaveStatus save={pointsSave} />
          </div>
        </form>
      ) : (
        <CannotChange area="contact-scoring" />
      )}
      <h3 class="subhead">Point history</h3>
      <Paged
        what="point changes"
        reloadKey={historyKey}
        load={(cursor) => load(api.GET('/api/v1/contacts/{id}/points', { params: { path: { id: contact.id }, query: { limit: 10, cursor } } }))}
        empty={<p class="hint">No points yet. Point rules score what the contact does; you can also adjust them here.</p>}
      >
        {(items) => (
          <ul class="plain-list">
            {items.map((x) => (
              <li>
                <strong>{x.delta > 0 ? `+${formatInteger(x.delta)}` : formatInteger(x.delta)}</strong> {x.reason} <span class="sub">{formatDateTime(x.created_at)}</span>
              </li>
            ))}
          </ul>
        )}
      </Paged>
    </>
  );
}


export default function ContactPage() {
  const { params } = useRoute();
  const { route } = useLocation();
  const id = /^[1-9]\d{0,15}$/.test(params.id ?? '') ? Number(params.id) : null;
  const loaded = useLoad(() => (id === null ? Promise.reject(new Error('There is no contact at this address.')) : load(api.GET('/api/v1/contacts/{id}', { params: { path: { id } } }))), String(id));
  const fields = useLoad(() => load(api.GET('/api/v1/fields', { params: { query: { limit: 100 } } })).then((p) => p.data), 'fields');
  const [contact, setContact] = useState<Detail | null>(null);
  const [stages, setStages] = useState<Stage[] | null>(null);
  const [timelineKey, setTimelineKey] = useState(0);
  useEffect(() => void loadStages().then(setStages, () => setStages([])), []);
  useEffect(() => {
    if (loaded.state === 'done') {
      setContact(loaded.data);
      // A merged contact's old id answers with the survivor: show the survivor's address.
      if (loaded.data.id !== id) route(`/app/contacts/${loaded.data.id}`, true);
    }
  }, [loaded.state]);
  useEffect(() => {
    document.title = `${contact ? contactName(contact) : 'Contact'} · Leadline`;
  }, [contact?.id, contact?.first_name, contact?.last_name, contact?.email]);

  if (loaded.state === 'loading' || (loaded.state === 'done' && !contact)) return <Loading what="the contact" />;
  if (loaded.state === 'error')
    return (
      <section>
        <h1 tabIndex={-1}>Contact</h1>
        <ErrorMessage message={loaded.message} retry={loaded.retry} />
        <p>
          <a href="/app/contacts">Back to contacts</a>
        </p>
      </section>
    );
  const c = contact!;
  const update = (patch: Partial<Detail>) => setContact({ ...c, ...patch });
  const refreshTimeline = () => setTimelineKey((k) => k + 1);
  const stageName = c.stage_id === null ? 'None' : (stages?.find((s) => s.id === c.stage_id)?.name ?? `#${c.stage_id}`);
  const source = c.first_source ? [c.first_source.utm_source, c.first_source.utm_medium, c.first_source.referrer].filter(Boolean).join(' / ') : '';

  return (
    <div class="contact">
      <p class="crumbs">
        <a href="/app/contacts">Contacts</a>
      </p>
      <div class="contact-head">
        <h1 tabIndex={-1}>{contactName(c)}</h1>
        {c.email && contactName(c) !== c.email && <span class="sub">{c.email}</span>}
      </div>
      <dl class="facts">
        <div>
          <dt>Points</dt>
          <dd>{formatInteger(c.points)}</dd>
        </div>
        <div>
          <dt>Stage</dt>
          <dd>{stageName}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>{formatDateTime(c.created_at)}</dd>
        </div>
        <div>
          <dt>Last active</dt>
          <dd>{c.last_active_at ? formatDateTime(c.last_active_at) : 'Not yet'}</dd>
        </div>
        <div>
          <dt>First source</dt>
          <dd>{source || (c.first_seen_at ? 'Direct' : 'No visit tracked')}</dd>
        </div>
        <div>
          <dt>Do not contact</dt>
          <dd>{c.do_not_contact.length ? c.do_not_contact.map((d) => `${d.channel} (${d.reason})`).join(', ') : 'No'}</dd>
        </div>
      </dl>
      <div class="contact-grid">
        <div>
          <Card id="profile-heading" title="Profile">
            {fields.state === 'loading' && <Loading what="fields" />}
            {fields.state === 'error' && <ErrorMessage message={fields.message} retry={fields.retry} />}
            {fields.state === 'done' && <Profile contact={c} fields={fields.data} saved={(n) => (setContact(n), refreshTimeline())} />}
          </Card>
          <Card id="tags-heading" title="Tags">
            <Tags contact={c} changed={(tags) => update({ tags })} />
          </Card>
          <Card id="stage-heading" title="Stage and points">
            <StageAndPoints contact={c} stages={stages} changed={(p) => (update(p), refreshTimeline())} />
          </Card>
          <Card id="sales-heading" title="Sales feedback">
            <SalesFeedback contact={c} recorded={refreshTimeline} />
          </Card>
          <Card id="deals-heading" title="Deals">
            <Deals contact={c} reloadKey={timelineKey} changed={refreshTimeline} />
          </Card>
        </div>
        <div>
          <Card id="timeline-heading" title="Timeline">
            <Timeline contact={c} reloadKey={timelineKey} />
          </Card>
          <Card id="companies-heading" title="Companies">
            {c.companies.length === 0 ? (
              <p class="hint">Not linked to a company. Link one through the API (PUT /api/v1/companies/&#123;id&#125;/contacts/{c.id}).</p>
            ) : (
              <ul class="plain-list">
                {c.companies.map((co) => (
                  <li>
                    <strong>{co.name}</strong> {co.domain && <span class="sub">{co.domain}</span>} {co.is_primary && <span class="tag">primary</span>}
                  </li>
                ))}
              </ul>
            )}
          </Card>
          <Card id="segments-heading" title="Segments">
            <Paged
              what="segments"
              reloadKey={timelineKey}
              load={(cursor) => load(api.GET('/api/v1/contacts/{id}/segments', { params: { path: { id: c.id }, query: { limit: 25, cursor } } }))}
              empty={<p class="hint">In no segment. Segments gather contacts by their fields, tags, points, stage and behaviour.</p>}
            >
              {(items) => (
                <ul class="plain-list">
                  {items.map((s) => (
                    <li>
                      {s.name} <span class="sub">{s.membership === 'manual' ? 'added by hand' : 'matches the filter'}, since {formatDateTime(s.added_at)}</span>
                    </li>
                  ))}
                </ul>
              )}
            </Paged>
          </Card>
          <Card id="campaigns-heading" title="Campaigns">
            <Paged
              what="campaigns"
              load={(cursor) => load(api.GET('/api/v1/contacts/{id}/campaigns', { params: { path: { id: c.id }, query: { limit: 25, cursor } } }))}
              empty={<p class="hint">Not in a campaign.</p>}
            >
              {(items) => (
                <ul class="plain-list">
                  {items.map((x) => (
                    <li>
                      {x.campaign.name} <span class="sub">{x.status}{x.current_step ? `, at ${x.current_step}` : ''}; entered {formatDateTime(x.entered_at)}</span>
                    </li>
                  ))}
                </ul>
              )}
            </Paged>
          </Card>
          <Card id="emails-heading" title="Emails">
            <Paged
              what="emails"
              load={(cursor) => load(api.GET('/api/v1/contacts/{id}/emails', { params: { path: { id: c.id }, query: { limit: 25, cursor } } }))}
              empty={<p class="hint">No email sent to this contact yet.</p>}
            >
              {(items) => (
                <ul class="plain-list">
                  {items.map((m) => (
                    <li>
                      {m.email_name ?? m.subject ?? `Email #${m.email_id}`}{' '}
                      <span class="sub">
                        {m.status}
                        {m.skip_reason ? ` (${m.skip_reason.replace(/_/g, ' ')})` : ''}
                        {m.error ? `: ${m.error}` : ''} · {formatDateTime(m.sent_at ?? m.created_at)}
                      </span>
                    </li>
                  ))}
                </ul>
              )}
            </Paged>
          </Card>
        </div>
      </div>
    </div>
  );
}

