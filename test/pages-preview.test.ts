// POST /api/v1/pages/preview: a draft landing page (the body of a create) checked as a save
// checks it and answered as the HTML its preview link would show once saved, storing nothing.
import { describe, expect, it } from 'vitest';
import { expectError, makeApp, type TestApp } from './helpers';
import { addUser, asUser, jsonOf } from './auth-helpers';
import { count } from './tracking-helpers';
import { get, mkForm, setup } from './pages-helpers';
import { routeContract } from './route-contract';

const stored = async (t: TestApp) => ({
  pages: await count(t, 'SELECT count(*) AS n FROM pages'),
  redirects: await count(t, 'SELECT count(*) AS n FROM page_redirects'),
  state: await count(t, 'SELECT count(*) AS n FROM app_state'),
});

/** What differs between two responses of the same page: the CSP nonce, each form's submission id and signed render time. */
const normalise = (html: string) =>
  html
    .replace(/nonce="[^"]+"/g, 'nonce="N"')
    .replace(/(name="_sid"[^>]*value=")[^"]+"/g, '$1S"')
    .replace(/(value=")[^"]+("[^>]*name="_sid")/g, '$1S$2')
    .replace(/(name="_t"[^>]*value=")[^"]+"/g, '$1T"')
    .replace(/(value=")[^"]+("[^>]*name="_t")/g, '$1T$2');

async function preview(t: TestApp, body: unknown, key?: string | null) {
  const res = await t.call('POST', '/api/v1/pages/preview', body, key === undefined ? {} : { key });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe('POST /api/v1/pages/preview', () => {
  it('renders the draft with its sections and form as its preview link would once saved, storing nothing', async () => {
    const t = await makeApp();
    const { site, form } = await setup(t);
    await t.json('POST', '/api/v1/fields', { key: 'plan', label: 'Plan', type: 'text' });
    const body = {
      site_id: site.id,
      slug: 'spring-webinar',
      title: 'Spring webinar',
      description: 'Forty minutes.',
      sections: [
        { type: 'hero', heading: 'Hello {{ contact.first_name | default: "there" }}', subheading: 'Live on 12 May', cta: { label: 'Save my seat', url: '#register' } },
        { type: 'markdown', markdown: '## What you will learn\n\nOn {{contact.fields.plan | default: "any plan"}}' },
        { type: 'form', form_id: form.id, heading: 'Register' },
      ],
    };
    const before = await stored(t);
    const draft = await preview(t, body);
    expect(draft.status, draft.text).toBe(200);
    expect(draft.headers.get('content-type')).toMatch(/^text\/html/);
    expect(draft.headers.get('cache-control')).toBe('no-store');
    expect(draft.headers.get('x-robots-tag')).toBe('noindex, nofollow');
    expect(draft.headers.get('x-content-type-options')).toBe('nosniff');
    const csp = draft.headers.get('content-security-policy') ?? '';
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(draft.text).toContain(`nonce="${nonce}"`);
    // The sections, the tokens at their defaults (no browser is anyone here), the form to post.
    expect(draft.text).toContain('<h1>Hello there</h1>');
    expect(draft.text).toContain('Live on 12 May');
    expect(draft.text).toContain('<h2>What you will learn</h2>');
    expect(draft.text).toContain('On any plan');
    expect(draft.text).toContain(`action="http://localhost/f/${form.id}"`);
    expect(draft.text).toContain('Register');
    expect(draft.text).toContain('<meta name="robots" content="noindex');
    expect(draft.text).not.toContain('{{');
    expect(await stored(t)).toEqual(before);

    // Saved, its preview link shows the same page.
    const created = await t.json('POST', '/api/v1/pages', body);
    expect(created.status).toBe(201);
    const link = await t.json('POST', `/api/v1/pages/${created.body.id}/preview-link`, {});
    const shown = await get(t, new URL(link.body.url).pathname + new URL(link.body.url).search, { accept: 'text/html' });
    expect(shown.status).toBe(200);
    expect(normalise(draft.text)).toBe(normalise(shown.text));

    // A slug already taken is no reason not to preview (a save would say so, with a 409).
    const again = await preview(t, { ...body, sections: [{ type: 'markdown', markdown: 'Second draft' }] });
    expect(again.status).toBe(200);
    expect(again.text).toContain('Second draft');
    expect(again.text).not.toContain('What you will learn');
    expect(await count(t, 'SELECT count(*) AS n FROM pages')).toBe(1);
  });

  it('refuses what a create refuses, with the same 422 naming the fields; nothing is written', async () => {
    const t = await makeApp();
    const { site } = await setup(t);
    const form = await mkForm(t, { name: 'Second' });
    const base = { site_id: site.id, slug: 'offer', title: 'Offer' };
    const cases: Record<string, unknown>[] = [
      { sections: [{ type: 'form', form_id: 999 }] },
      { sections: [{ type: 'columns', columns: [[{ type: 'form', form_id: form.id }], [{ type: 'form', form_id: 998 }]] }] },
      { site_id: 999 },
      { slug: 'Bad Slug', sections: [{ type: 'cta', label: 'Go', url: 'javascript:alert(1)' }] },
      { sections: [{ type: 'markdown', markdown: 'Hi {{ first_name }} and {{contact.fields.plan}}' }] },
      { title: 'Hi {{contact.first_name}}' },
      { sections: [{ type: 'html', html: '<a href="/" title="{{contact.first_name}}">x</a>' }] },
      { sections: [{ type: 'video', url: 'https://x.example' }] },
      { ...base, stored: true },
    ];
    for (const c of cases) {
      const body = { ...base, ...c };
      const create = await t.json('POST', '/api/v1/pages', body);
      const draft = await t.json('POST', '/api/v1/pages/preview', body);
      expectError(draft, 422, 'VALIDATION_FAILED');
      expect(draft.body.error.details, JSON.stringify(c)).toEqual(create.body.error.details);
      expect(draft.body.error.details.length).toBeGreaterThan(0);
      expect(draft.body.error.message).toBe(create.body.error.message);
    }
    expectError(await t.json('POST', '/api/v1/pages/preview', '{"site_id": ', { headers: { 'content-type': 'application/json' } }), 400, 'BAD_REQUEST');
    expect(await count(t, 'SELECT count(*) AS n FROM pages')).toBe(0);
  });

  it('is for the roles that may create pages: viewer and sales get 403, as a read-only key does', async () => {
    const t = await makeApp();
    const { site, form } = await setup(t);
    const body = { site_id: site.id, slug: 'roles', title: 'Roles', sections: [{ type: 'form', form_id: form.id }] };
    for (const [role, email] of [
      ['viewer', 'vic@example.com'],
      ['sales', 'sam@example.com'],
    ]) {
      const user = await addUser(t, role!, email!);
      const r = await jsonOf(asUser(t, user, 'POST', '/api/v1/pages/preview', body));
      expectError(r, 403, 'FORBIDDEN');
      expect(r.body.error.message).toContain('cannot change landing pages');
      expectError(await jsonOf(asUser(t, user, 'POST', '/api/v1/pages', body)), 403, 'FORBIDDEN');
    }
    const marketer = await addUser(t, 'marketer', 'mia@example.com');
    const ok = await asUser(t, marketer, 'POST', '/api/v1/pages/preview', body);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain(`/f/${form.id}`);
    expectError(await t.json('POST', '/api/v1/pages/preview', body, { key: t.keys.read }), 403, 'FORBIDDEN');
    expect(await count(t, 'SELECT count(*) AS n FROM pages')).toBe(0);
  });
});

describe('page preview: HTTP contract', () => {
  routeContract([{ method: 'POST', path: '/api/v1/pages/preview', body: { site_id: 1, slug: 'contract', title: 'Contract', sections: [{ type: 'markdown', markdown: 'x' }] } }]);
});
