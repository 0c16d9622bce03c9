// Personalisation tokens (core/personalise): the parser, the substitution slots use, the check
// content gets when it is saved, and who a browser is. Hostile input — NUL, lone surrogates,
// 100,000-character bodies, prototype names — never throws, never shows what it should not,
// and costs one pass. Pages (/p/{slug}) are in test/pages-personalise.test.ts.
import { describe, expect, it } from 'vitest';
import { makeApp } from './helpers';
import { CHROME_UA, makeSite, sign, track, vid } from './tracking-helpers';
import { scanTokens } from '../api/core/personalise/tokens';
import { personaliseHtml, textRuns, tokenErrors } from '../api/core/personalise/html';
import { who, type Viewer } from '../api/core/personalise/who';
import type { Ctx } from '../api/core/context';

const ctx = {} as Ctx; // personaliseHtml reads nothing from it
const viewer = (values: Record<string, string>): Viewer => ({ proof: 'proven', values: new Map(Object.entries(values)) });
const ada = viewer({ first_name: 'Ada', city: 'London', 'fields.plan': 'Pro' });
const fill = (html: string, v: Viewer | null = ada) => personaliseHtml(ctx, html, v);
const none = new Set<string>();

describe('the token parser', () => {
  it('reads the Liquid-like shapes: spaces or none, a default in either quotes, custom fields', () => {
    expect(fill('<p>Hi {{contact.first_name}}</p>')).toBe('<p>Hi Ada</p>');
    expect(fill('<p>Hi {{ contact.first_name }}!</p>')).toBe('<p>Hi Ada!</p>');
    expect(fill('<p>{{\n  contact.city\n}}</p>')).toBe('<p>London</p>');
    expect(fill('<p>{{contact.fields.plan}}</p>')).toBe('<p>Pro</p>');
    expect(fill('<p>Hi {{contact.last_name | default: "there"}}</p>')).toBe('<p>Hi there</p>');
    expect(fill("<p>Hi {{contact.last_name|default:'friend'}}</p>")).toBe('<p>Hi friend</p>');
    expect(fill('<p>{{ contact.last_name | default: "it\'s you" }}</p>')).toBe("<p>it's you</p>");
    expect(fill('<p>{{ contact.last_name | default: \'say "hi"\' }}</p>')).toBe('<p>say "hi"</p>');
    expect(fill('<p>{{ contact.last_name | default: "" }}.</p>')).toBe('<p>.</p>');
    // A default is text: in HTML it is HTML text already (quotes are text there), markup in it is
    // not allowed (left as written); in plain text (a heading, Markdown) it is escaped.
    expect(fill('<p>{{contact.x | default: "<b>hi</b>"}}</p>')).toBe('<p>{{contact.x | default: "<b>hi</b>"}}</p>');
    expect(scanTokens('{{contact.x | default: "<b>hi</b>"}}', 'text').tokens[0]!.fallback).toBe('&lt;b&gt;hi&lt;/b&gt;');
    expect(scanTokens(`{{contact.x | default: "it's"}}`, 'text').tokens[0]!.fallback).toBe('it&#39;s');
    // An entity in an HTML default stays one; a bare & is escaped.
    expect(fill('<p>{{contact.x | default: "Tom &amp; Jerry & co"}}</p>')).toBe('<p>Tom &amp; Jerry &amp; co</p>');
    // An empty value shows the default, as a missing one does.
    expect(fill('<p>{{contact.first_name | default: "there"}}</p>', viewer({ first_name: '' }))).toBe('<p>there</p>');
  });

  it('unknown fields show the default or nothing, and nothing from the prototype', () => {
    expect(fill('<p>[{{contact.nickname}}]</p>')).toBe('<p>[]</p>');
    expect(fill('<p>[{{contact.nickname | default: "you"}}]</p>')).toBe('<p>[you]</p>');
    for (const f of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'fields.__proto__', 'fields.constructor', 'valueOf']) {
      expect(fill(`<p>[{{contact.${f}}}]</p>`), f).toBe('<p>[]</p>');
      expect(fill(`<p>[{{contact.${f} | default: "d"}}]</p>`), f).toBe('<p>[d]</p>');
    }
    // Not tokens at all: left as the text they are.
    for (const s of ['{{constructor}}', '{{ first_name }}', '{{contact}}', '{{contact.}}', '{{contact.first_name | upcase}}', '{{contact.first_name | default: there}}', '{{contact.a.b.c}}', '{{ contact . first_name }}']) {
      expect(fill(`<p>${s}</p>`), s).toBe(`<p>${s}</p>`);
    }
  });

  it('nested, doubled and unclosed braces: the malformed part stays literal, a whole token inside still fills', () => {
    expect(fill('<p>{{ {{contact.first_name}} }}</p>')).toBe('<p>{{ Ada }}</p>');
    expect(fill('<p>{{{contact.first_name}}}</p>')).toBe('<p>{Ada}</p>');
    expect(fill('<p>{{contact.first_name</p>')).toBe('<p>{{contact.first_name</p>');
    expect(fill('<p>{{contact.first_name}}{{contact.city}}</p>')).toBe('<p>AdaLondon</p>');
    expect(fill('<p>{{contact.first_name | default: "}}"}}</p>', null)).toBe('<p>}}</p>');
    // A default holding a token is text, not another token.
    expect(fill('<p>{{contact.last_name | default: "{{contact.first_name}}"}}</p>')).toBe('<p>{{contact.first_name}}</p>');
  });

  it('names what is wrong at save time, quoting the token', () => {
    const msgs = (s: string, mode: 'text' | 'html' = 'text', keys = none) => tokenErrors(s, 'body', mode, keys).map((e) => e.message);
    expect(msgs('Hi {{contact.first_name}} {{contact.fields.plan}}', 'text', new Set(['plan']))).toEqual([]);
    expect(msgs('Hi {{ first_name }}')).toEqual(['"{{ first_name }}" is not a personalisation token: write {{ contact.FIELD }} or {{ contact.FIELD | default: "text" }}']);
    expect(msgs('Hi {{contact.first_name')).toEqual(['"{{contact.first_name" has no closing }} after it']);
    expect(msgs('{{contact.__proto__}}')[0]).toMatch(/^"\{\{contact.__proto__\}\}": "__proto__" is not a contact field tokens can show/);
    expect(msgs('{{contact.fields.plan}}')[0]).toContain('there is no custom field "plan"');
    expect(msgs('{{contact.id}} {{contact.points}} {{contact.stage}} {{contact.tags}}')).toHaveLength(4);
    expect(msgs('{{ {{contact.first_name}} }}')).toEqual(['"{{ {{contact.first_name}}" is not a personalisation token: write {{ contact.FIELD }} or {{ contact.FIELD | default: "text" }}']);
    expect(msgs('<a href="/x/{{contact.first_name}}">{{contact.first_name}}</a>', 'html')).toEqual(['"{{contact.first_name}}" is inside a tag, a link or an image address: tokens are shown only in text']);
    // Many bad ones: the first ten and a count, not one message per brace.
    const many = msgs('{{'.repeat(5_000));
    expect(many).toHaveLength(11);
    expect(many[10]).toBe('and 9989 more "{{" that start no token');
  });
});

describe('where tokens are filled', () => {
  it('only in element text: not in attributes, comments, script, style or textarea', () => {
    const html =
      '<a href="https://x.example/{{contact.first_name}}" title=\'{{contact.city}}\'>{{contact.first_name}}</a>' +
      '<!-- {{contact.first_name}} --><script>var n = "{{contact.first_name}}"</script><style>p::after{content:"{{contact.city}}"}</style>' +
      '<textarea>{{contact.city}}</textarea><img alt="a > {{contact.city}}" src="x"><p data-x="{{contact.city}}>">{{contact.city}}</p>';
    expect(fill(html)).toBe(
      '<a href="https://x.example/{{contact.first_name}}" title=\'{{contact.city}}\'>Ada</a>' +
        '<!-- {{contact.first_name}} --><script>var n = "{{contact.first_name}}"</script><style>p::after{content:"{{contact.city}}"}</style>' +
        '<textarea>{{contact.city}}</textarea><img alt="a > {{contact.city}}" src="x"><p data-x="{{contact.city}}>">London</p>',
    );
    expect(textRuns('a<b c="<d>">e</b>f')).toEqual([[0, 1], [12, 13], [17, 18]]);
    // A < that opens no tag is text.
    expect(fill('<p>1 < 2 {{contact.first_name}}</p>')).toBe('<p>1 < 2 Ada</p>');
  });

  it('escapes every value: markup in a first name is text', () => {
    const mallory = viewer({ first_name: '<script>alert(1)</script>', city: '"><img src=x onerror=alert(1)>', last_name: "'&" });
    expect(fill('<p>Hi {{contact.first_name}}</p>', mallory)).toBe('<p>Hi &lt;script&gt;alert(1)&lt;/script&gt;</p>');
    expect(fill('<p>{{contact.city}}</p>', mallory)).toBe('<p>&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</p>');
    expect(fill('<p>{{contact.last_name}}</p>', mallory)).toBe('<p>&#39;&amp;</p>');
    // A value that looks like a token is not read again.
    expect(fill('<p>{{contact.first_name}}</p>', viewer({ first_name: '{{contact.city}}', city: 'London' }))).toBe('<p>{{contact.city}}</p>');
  });

  it('HTML without tokens comes back as the same string', () => {
    const html = '<p>No tokens here, only { braces } and }}.</p>';
    expect(fill(html)).toBe(html);
    expect(fill('<a href="{{contact.first_name}}">x</a>')).toBe('<a href="{{contact.first_name}}">x</a>');
  });
});

describe('hostile input', () => {
  it('NUL and lone surrogates neither throw nor make a token of what is not one', () => {
    expect(fill('<p>{{contact.first\u0000name}}</p>')).toBe('<p>{{contact.first\u0000name}}</p>');
    expect(fill('<p>{{\u0000contact.first_name}}</p>')).toBe('<p>{{\u0000contact.first_name}}</p>');
    expect(fill('<p>{{contact.x | default: "a\u0000b"}}</p>')).toBe('<p>a\u0000b</p>');
    expect(fill('<p>{{contact.x | default: "\ud800"}}\udfff{{contact.first_name}}</p>')).toBe('<p>\ud800\udfffAda</p>');
    expect(fill('<p>{{contact.first_name}}</p>', viewer({ first_name: 'A\ud800\u0000<' }))).toBe('<p>A\ud800\u0000&lt;</p>');
    expect(fill('<p>{{\ud83d}}</p>')).toBe('<p>{{\ud83d}}</p>');
    expect(tokenErrors('{{\ud800', 'f', 'text', none)[0]!.message).toContain('has no closing }}');
  });

  it('100,000-character bodies take one pass: braces, unclosed defaults, thousands of tokens', () => {
    const braces = `<p>${'{'.repeat(100_000)}</p>`;
    expect(fill(braces)).toBe(braces);
    expect(tokenErrors(braces, 'f', 'html', none)).toHaveLength(11);
    const unclosed = `<p>${'{{contact.first_name | default: "'.repeat(3_100)}</p>`;
    expect(unclosed.length).toBeGreaterThan(100_000);
    expect(fill(unclosed)).toBe(unclosed);
    const spaces = `<p>{{${' '.repeat(100_000)}</p>`;
    expect(fill(spaces)).toBe(spaces);
    const many = `<p>${'{{contact.first_name}} '.repeat(5_000)}</p>`;
    expect(fill(many)).toBe(`<p>${'Ada '.repeat(5_000)}</p>`);
    expect(tokenErrors(many, 'f', 'html', none)).toEqual([]);
    const tags = '<b>{{contact.first_name}}</b>'.repeat(5_000);
    expect(fill(tags)).toBe('<b>Ada</b>'.repeat(5_000));
    const { tokens, problems } = scanTokens(`${'}}'.repeat(50_000)}{{contact.city}}`, 'text');
    expect([tokens.length, problems.length]).toEqual([1, 0]);
  });
});

describe('who a browser is', () => {
  it('proven: its contact’s fields (never ids, points or tags); claimed: only what it submitted; anyone else: nobody', async () => {
    const t = await makeApp();
    const site = await makeSite(t);
    await t.json('POST', '/api/v1/fields', { key: 'plan', label: 'Plan', type: 'text' });
    await t.json('POST', '/api/v1/fields', { key: 'topics', label: 'Topics', type: 'multiselect', options: ['a', 'b'] });
    await t.json('POST', '/api/v1/contacts', { email: 'v@example.com', first_name: 'Vera', city: 'Oslo', tags: ['vip'], fields: { plan: 'Pro', topics: ['a', 'b'] } });
    const proven = vid('proven');
    await track(t, { k: site.public_key, v: proven, e: [], id: { email: 'v@example.com', sig: sign(site.secret, 'v@example.com') } });
    const p = await who(t.ctx, { siteId: site.id, uid: proven });
    expect(p?.proof).toBe('proven');
    expect(Object.fromEntries(p!.values)).toEqual({ email: 'v@example.com', first_name: 'Vera', city: 'Oslo', 'fields.plan': 'Pro', 'fields.topics': 'a, b' });
    // The same browser id on another site is another browser.
    const other = await makeSite(t, { name: 'Other' });
    expect(await who(t.ctx, { siteId: other.id, uid: proven })).toBeNull();

    const form = await t.json('POST', '/api/v1/forms', {
      name: 'F',
      fields: [
        { key: 'em', label: 'Email', type: 'email', maps_to: 'email' },
        { key: 'fn', label: 'First', type: 'text', maps_to: 'first_name' },
        { key: 'note', label: 'Note', type: 'text' },
      ],
      min_fill_ms: 0,
    });
    const claimed = vid('claimed');
    const res = await t.app.request(`/f/${form.body.id}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: 'https://shop.example.com', 'user-agent': CHROME_UA },
      body: JSON.stringify({ k: site.public_key, v: claimed, sid: 'who_claim_1', values: { em: 'v@example.com', fn: 'Mal', note: 'hi' }, t: 3000 }),
    });
    expect(res.status).toBe(200);
    const c = await who(t.ctx, { siteId: site.id, uid: claimed });
    expect(c?.proof).toBe('claimed');
    expect(Object.fromEntries(c!.values)).toEqual({ email: 'v@example.com', first_name: 'Mal' });

    for (const uid of [null, undefined, '', '1', 'v@example.com', vid('nobody'), `${proven}x`, proven.toUpperCase(), 'a'.repeat(65)]) {
      expect(await who(t.ctx, { siteId: site.id, uid }), String(uid)).toBeNull();
    }
  });
});
