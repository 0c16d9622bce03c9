// Personalisation tokens on /p/{slug}, as browsers see them: a browser that proved who it is (a
// signed identify) sees its own first name; one that only typed an email into a form sees only
// what it typed; anyone else — no cookie, a guessed visitor id, a contact id or an email in the
// request — sees the defaults. The page is still rendered once and cached: each response fills
// the tokens for its own browser, and no shared cache may keep a personalised one.
import { describe, expect, it } from 'vitest';
import { expectError, makeApp, type TestApp } from './helpers';
import { get, mkPage, setup } from './pages-helpers';
import { CHROME_UA, sign, track, vid } from './tracking-helpers';

const ORIGIN = 'https://shop.example.com';
const VICTIM = 'victim@example.com';
const GREETING = [{ type: 'hero', heading: 'Hello {{ contact.first_name | default: "there" }}!', subheading: 'From {{contact.city|default:\'your town\'}}' }];

/** A browser with this visitor id proves it is `email` (the site's backend signed the identify). */
async function identify(t: TestApp, site: { public_key: string; secret: string }, uid: string, email: string) {
  const r = await track(t, { k: site.public_key, v: uid, e: [], id: { email, sig: sign(site.secret, email) } });
  expect(r.status).toBe(202);
}

let sid = 0;
async function submit(t: TestApp, formId: number, key: string, uid: string, values: Record<string, unknown>) {
  const res = await t.app.request(`/f/${formId}`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', origin: ORIGIN, 'user-agent': CHROME_UA },
    body: JSON.stringify({ k: key, v: uid, sid: `tokens_${++sid}`, values, t: 5000 }),
  });
  expect(res.status).toBe(200);
}

const asBrowser = (t: TestApp, path: string, uid?: string, headers: Record<string, string> = {}) => get(t, path, { ...(uid ? { cookie: `ll_vid=${uid}` } : {}), ...headers });
const heading = (html: string) => /<h1>(.*?)<\/h1>/.exec(html)?.[1];
const sub = (html: string) => /<header class="hero"><div><h1>.*?<\/h1><p>(.*?)<\/p>/.exec(html)?.[1];

async function world() {
  const t = await makeApp();
  const { site, form } = await setup(t);
  await t.json('POST', '/api/v1/fields', { key: 'plan', label: 'Plan', type: 'text' });
  const victim = await t.json('POST', '/api/v1/contacts', { email: VICTIM, first_name: 'Victoria', city: 'Oslo', fields: { plan: 'Enterprise' } });
  expect(victim.status).toBe(201);
  const page = await mkPage(t, { site_id: site.id, slug: 'welcome', sections: [...GREETING, { type: 'markdown', markdown: 'Your plan: **{{contact.fields.plan | default: "none yet"}}**.' }] }, true);
  return { t, site, form, victimId: victim.body.id as number, page };
}

describe('personalisation on /p/{slug}', () => {
  it('a browser proven by a signed identify sees its own fields; the response is private to it', async () => {
    const { t, site } = await world();
    const uid = vid('victim-laptop');
    await identify(t, site, uid, VICTIM);
    const r = await asBrowser(t, '/p/welcome', uid);
    expect(r.status).toBe(200);
    expect(heading(r.text)).toBe('Hello Victoria!');
    expect(sub(r.text)).toBe('From Oslo');
    expect(r.text).toContain('Your plan: <strong>Enterprise</strong>.');
    expect(r.headers.get('cache-control')).toBe('private, no-cache');
    expect(r.headers.get('vary')).toContain('Cookie');
    // No token text or placeholder leaks through.
    expect(r.text).not.toMatch(/\{\{|llt[a-z0-9]+n\d+x/);
  });

  it('refuses personalisation to an unproven browser: no cookie, a guessed visitor id, a contact id or an email in the request', async () => {
    const { t, site, victimId } = await world();
    await identify(t, site, vid('victim-laptop'), VICTIM);
    const defaults = (html: string) => {
      expect(heading(html)).toBe('Hello there!');
      expect(sub(html)).toBe('From your town');
      expect(html).toContain('Your plan: <strong>none yet</strong>.');
      expect(html).not.toMatch(/Victoria|Oslo|Enterprise/);
    };
    defaults((await asBrowser(t, '/p/welcome')).text);
    // A visitor id that looks right but no browser has: nothing.
    defaults((await asBrowser(t, '/p/welcome', vid('guessed-laptop'))).text);
    // An existing but anonymous browser of the site: nothing.
    const anon = vid('anon');
    await track(t, { k: site.public_key, v: anon, e: [{ t: 'pv', u: `${ORIGIN}/` }] });
    defaults((await asBrowser(t, '/p/welcome', anon)).text);
    // Contact ids and emails, wherever a request could carry them, are not inputs.
    defaults((await get(t, `/p/welcome?contact_id=${victimId}&email=${encodeURIComponent(VICTIM)}&v=${vid('victim-laptop')}`)).text);
    defaults((await get(t, '/p/welcome', { cookie: `ll_vid=${victimId}; ll_cid=${victimId}; email=${VICTIM}`, 'x-contact-id': String(victimId) })).text);
    defaults((await get(t, '/p/welcome', { cookie: `ll_vid=${VICTIM}` })).text);
  });

  it('a browser that only typed the victim’s email into a form sees what it typed, never the contact’s other fields', async () => {
    const { t, site, form, victimId } = await world();
    const attacker = vid('attacker');
    await submit(t, form.id, site.public_key, attacker, { email: VICTIM, first_name: 'Mallory' });
    // The claim links the browser to the victim's contact (for scoring), unproven.
    const link = await t.client.execute({ sql: 'SELECT contact_id, proven_at FROM visitors WHERE uid = ?', args: [attacker] });
    expect(link.rows[0]!.contact_id).not.toBeNull();
    expect(link.rows[0]!.proven_at).toBeNull();
    const r = await asBrowser(t, '/p/welcome', attacker);
    // What it typed, from its own submission: the contact's first name changing later shows nothing new…
    expect(heading(r.text)).toBe('Hello Mallory!');
    expect((await t.json('PATCH', `/api/v1/contacts/${victimId}`, { first_name: 'Vicky' })).status).toBe(200);
    expect(heading((await asBrowser(t, '/p/welcome', attacker)).text)).toBe('Hello Mallory!');
    // …and nothing it did not type: not the victim's city or plan.
    expect(sub(r.text)).toBe('From your town');
    expect(r.text).toContain('Your plan: <strong>none yet</strong>.');
    expect(r.text).not.toMatch(/Victoria|Oslo|Enterprise/);
    // The email it typed is its own to see again.
    const p = await mkPage(t, { site_id: site.id, slug: 'email', sections: [{ type: 'markdown', markdown: 'Signed up as {{contact.email}}' }] }, true);
    expect(p.status).toBe('published');
    expect((await asBrowser(t, '/p/email', attacker)).text).toContain(`Signed up as ${VICTIM}`);
    expect((await asBrowser(t, '/p/email')).text).toContain('Signed up as </p>');
  });

  it('the cached page serves each browser its own values, back to back, and an anonymous one the defaults', async () => {
    const { t, site } = await world();
    const ada = vid('ada');
    const grace = vid('grace');
    await t.json('POST', '/api/v1/contacts', { email: 'ada@example.com', first_name: 'Ada' });
    await t.json('POST', '/api/v1/contacts', { email: 'grace@example.com', first_name: 'Grace', city: 'Arlington' });
    await identify(t, site, ada, 'ada@example.com');
    await identify(t, site, grace, 'grace@example.com');
    const seen: string[] = [];
    for (const uid of [ada, grace, undefined, ada, undefined, grace, grace]) seen.push(`${heading((await asBrowser(t, '/p/welcome', uid)).text)} ${sub((await asBrowser(t, '/p/welcome', uid)).text)}`);
    expect(seen).toEqual([
      'Hello Ada! From your town',
      'Hello Grace! From Arlington',
      'Hello there! From your town',
      'Hello Ada! From your town',
      'Hello there! From your town',
      'Hello Grace! From Arlington',
      'Hello Grace! From Arlington',
    ]);
    // An edit to the contact shows at once (values are read per response, not cached).
    const adaId = (await t.json('GET', '/api/v1/contacts?limit=10')).body.data.find((c: { email: string }) => c.email === 'ada@example.com').id;
    await t.json('PATCH', `/api/v1/contacts/${adaId}`, { first_name: 'Augusta' });
    expect(heading((await asBrowser(t, '/p/welcome', ada)).text)).toBe('Hello Augusta!');
    // A page without tokens keeps its headers: cacheable, not per cookie.
    await mkPage(t, { site_id: site.id, slug: 'plain', sections: [{ type: 'markdown', markdown: 'Plain page' }] }, true);
    const plain = await asBrowser(t, '/p/plain', ada);
    expect(plain.headers.get('cache-control')).toBe('no-cache');
    expect(plain.headers.get('vary') ?? '').not.toContain('Cookie');
  });

  it('contact values are shown as text: markup in a first name is escaped, and a value that looks like a token stays text', async () => {
    const { t, site } = await world();
    const uid = vid('xss');
    await t.json('POST', '/api/v1/contacts', { email: 'x@example.com', first_name: '<script>alert(1)</script>', city: '{{contact.email}}' });
    await identify(t, site, uid, 'x@example.com');
    const r = await asBrowser(t, '/p/welcome', uid);
    expect(heading(r.text)).toBe('Hello &lt;script&gt;alert(1)&lt;/script&gt;!');
    expect(r.text).not.toContain('<script>alert(1)');
    expect(sub(r.text)).toBe('From {{contact.email}}');
    expect(r.text).not.toContain('From x@example.com');
  });

  it('a token that reached a link address or an attribute (content saved before the check) stays literal text', async () => {
    const { t, site, page } = await world();
    const uid = vid('victim-laptop');
    await t.json('PATCH', `/api/v1/contacts/${(await t.json('GET', '/api/v1/contacts?limit=5')).body.data[0].id}`, { fields: { plan: 'javascript:alert(1)' } });
    await identify(t, site, uid, VICTIM);
    // As a page saved before tokens were checked: straight to the database.
    const sections = [
      { type: 'markdown', markdown: '[Go]({{contact.fields.plan}}) and [{{contact.first_name}}](https://example.com/{{contact.first_name}})' },
      { type: 'html', html: '<a href="{{contact.fields.plan}}" title="{{contact.first_name}}">{{contact.first_name}}</a> {{ oops }}' },
    ];
    await t.client.execute({ sql: 'UPDATE pages SET sections = ?, version = version + 1 WHERE id = ?', args: [JSON.stringify(sections), page.id] });
    await t.json('POST', `/api/v1/pages/${page.id}/publish`);
    const html = (await asBrowser(t, '/p/welcome', uid)).text;
    expect(html).not.toContain('javascript:');
    expect(html).toContain('<a href="{{contact.fields.plan}}">Go</a>');
    expect(html).toContain('<a href="https://example.com/{{contact.first_name}}">Victoria</a>');
    expect(html).toContain('<a href="{{contact.fields.plan}}" title="{{contact.first_name}}">Victoria</a> {{ oops }}');
  });

  it('a preview of a draft with tokens shows the previewing browser its own values, never stored', async () => {
    const { t, site } = await world();
    const uid = vid('victim-laptop');
    await identify(t, site, uid, VICTIM);
    const draft = await mkPage(t, { site_id: site.id, slug: 'draft', sections: GREETING });
    const link = await t.json('POST', `/api/v1/pages/${draft.id}/preview-link`, { expires_in: 600 });
    const url = new URL(link.body.url);
    const r = await asBrowser(t, url.pathname + url.search, uid);
    expect(heading(r.text)).toBe('Hello Victoria!');
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(heading((await asBrowser(t, url.pathname + url.search)).text)).toBe('Hello there!');
  });
});

describe('saving a page with tokens', () => {
  it('refuses malformed tokens, unknown fields and tokens where they cannot show with a 422 naming the token; nothing is written', async () => {
    const t = await makeApp();
    const { site } = await setup(t);
    const bad = async (body: Record<string, unknown>, field: string, quoted: string) => {
      const r = await t.json('POST', '/api/v1/pages', { site_id: site.id, slug: 'bad', title: 'Bad', ...body });
      expectError(r, 422, 'VALIDATION_FAILED');
      const details = r.body.error.details as { field: string; message: string }[];
      expect(details.map((d) => d.field), JSON.stringify(details)).toContain(field);
      expect(details.find((d) => d.field === field)!.message).toContain(quoted);
    };
    const md = (markdown: string) => ({ sections: [{ type: 'markdown', markdown }] });
    await bad(md('Hi {{ first_name }}'), 'sections.0.markdown', '"{{ first_name }}" is not a personalisation token');
    await bad(md('Hi {{contact.first_name | upcase}}'), 'sections.0.markdown', '{{contact.first_name | upcase}}');
    await bad(md('Hi {{contact.first_name'), 'sections.0.markdown', 'has no closing }}');
    await bad(md('Hi {{ {{contact.first_name}} }}'), 'sections.0.markdown', '"{{ {{contact.first_name}}"');
    await bad(md('{{constructor}}'), 'sections.0.markdown', '{{constructor}}');
    await bad(md('{{contact.__proto__}}'), 'sections.0.markdown', '"{{contact.__proto__}}": "__proto__" is not a contact field');
    await bad(md('{{contact.id}}'), 'sections.0.markdown', '"{{contact.id}}": "id" is not a contact field');
    await bad(md('{{contact.fields.plan}}'), 'sections.0.markdown', 'there is no custom field "plan"');
    await bad(md('[x](https://example.com/?n={{contact.first_name}})'), 'sections.0.markdown', 'is inside a tag, a link or an image address');
    await bad({ sections: [{ type: 'html', html: '<a href="/" title="{{contact.first_name}}">x</a>' }] }, 'sections.0.html', 'is inside a tag');
    await bad({ sections: [{ type: 'html', html: '<p onclick="{{contact.first_name}}">x</p>' }] }, 'sections.0.html', 'where the page cannot show it');
    await bad({ title: 'Hi {{contact.first_name}}' }, 'title', 'tokens are shown only in a page');
    await bad({ sections: [{ type: 'image', src: 'https://cdn.example.com/a.png', alt: '{{contact.first_name}}' }] }, 'sections.0.alt', 'not here');
    await bad({ sections: [{ type: 'columns', columns: [[{ type: 'cta', label: 'Go {{contact.nick}}', url: '/' }], [{ type: 'markdown', markdown: 'x' }]] }] }, 'sections.0.columns.0.0.label', '"nick" is not a contact field');
    expect((await t.json('GET', '/api/v1/pages')).body.data).toEqual([]);

    // The same shapes written right are taken; so is a custom field that exists, and escaped braces.
    await t.json('POST', '/api/v1/fields', { key: 'plan', label: 'Plan', type: 'text' });
    const ok = await t.json('POST', '/api/v1/pages', {
      site_id: site.id,
      slug: 'good',
      title: 'Good',
      sections: [
        { type: 'hero', heading: 'Hi {{contact.first_name|default:"there"}}', cta: { label: 'Go, {{ contact.first_name }}', url: '#f' } },
        { type: 'markdown', markdown: 'On {{ contact.fields.plan | default: \'the free plan\' }}; write \\{\\{ for braces.' },
        { type: 'html', html: '<p>{{contact.city}} &#123;&#123; literal }}</p>' },
      ],
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    await t.json('POST', `/api/v1/pages/${ok.body.id}/publish`);
    const shown = (await get(t, '/p/good')).text;
    expect(shown).toContain('<h1>Hi there</h1>');
    expect(shown).toContain('On the free plan; write {{ for braces.');
    expect(shown).toMatch(/<p> (\{\{|&#123;&#123;) literal \}\}<\/p>/);
    // A patch is checked as a whole too.
    const patched = await t.json('PATCH', `/api/v1/pages/${ok.body.id}`, { description: 'For {{contact.first_name}}' });
    expectError(patched, 422, 'VALIDATION_FAILED');
    expect(patched.body.error.message).toContain('description');
  });

  it('a page in an A/B test fills the tokens of the variant a proven browser is given, even when the original has none', async () => {
    const { t, site } = await world();
    const plain = await mkPage(t, { site_id: site.id, slug: 'offer', sections: [{ type: 'hero', heading: 'Offer for everyone' }] }, true);
    const variant = await t.json('POST', `/api/v1/pages/${plain.id}/variants`, { name: 'B', weight: 50, sections: [{ type: 'hero', heading: 'B for {{ contact.first_name | default: "you" }}' }] });
    expect(variant.status).toBe(201);
    // Proven browsers until one lands in each arm (the split is by visitor id, about half each).
    const seen = new Map<string, string>();
    for (let i = 0; i < 40 && seen.size < 2; i++) {
      const uid = vid(`ab-proven-${i}`);
      await identify(t, site, uid, VICTIM);
      // A browser's user agent (bots are kept out of the test and get the original).
      const r = await asBrowser(t, '/p/offer', uid, { 'user-agent': CHROME_UA });
      expect(r.status).toBe(200);
      const h = heading(r.text)!;
      if (h.startsWith('B')) expect(r.headers.get('cache-control')).toBe('private, no-cache');
      seen.set(h.split(' ')[0]!, h);
    }
    expect(seen.get('Offer')).toBe('Offer for everyone');
    expect(seen.get('B')).toBe('B for Victoria');
    // A variant's tokens are checked as a page's: an unknown field, or a token in its title, is a 422.
    const bad = await t.json('POST', `/api/v1/pages/${plain.id}/variants`, { name: 'C', weight: 10, sections: [{ type: 'hero', heading: 'Hi {{ contact.nope }}' }] });
    expectError(bad, 422, 'VALIDATION_FAILED');
    expect(JSON.stringify(bad.body.error.details)).toContain('sections.0.heading');
    const titled = await t.json('PATCH', `/api/v1/pages/${plain.id}/variants/${variant.body.id}`, { title: 'For {{contact.first_name}}' });
    expectError(titled, 422, 'VALIDATION_FAILED');
    expect((await t.json('GET', `/api/v1/pages/${plain.id}/variants`)).body.data).toHaveLength(2); // the original and B
    // An unproven browser in either arm gets the default.
    const anon = await asBrowser(t, '/p/offer', vid('ab-anon'), { 'user-agent': CHROME_UA });
    expect(heading(anon.text)).toMatch(/^(Offer|B) for you$/);
  });
});
