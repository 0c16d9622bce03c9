// Slots (dynamic web content) in Chromium against the real server: a marketer finds them from the
// landing pages, creates a slot (the server's 422 for a bad name next to the name), copies its
// snippet, writes two rules whose content previews show sanitised, saves; the public GET /focus
// answers a visitor with the first rule that holds; moving a rule up with the keyboard and saving
// changes that answer; a segment and a stage are picked from lists; views and clicks sent through
// POST /t show per content; the slot is deleted. Every view is clean (axe serious/critical,
// console). Signs in through test/dashboard-signed-in.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, axe, expectCleanView, settled, startEnv, type Env } from './dashboard-signed-in';
import { CHROME_UA } from './tracking-helpers';

let env: Env;
const MARKETER = 'mia.marketer@example.com';
let site: { id: number; name: string; public_key: string };
let segment: { id: number; name: string };
let stage: { id: number; name: string };

beforeAll(async () => {
  env = await startEnv();
  await env.signIn();
  await env.addUser('marketer', MARKETER);
  site = (await env.call('POST', '/api/v1/sites', { name: 'Shop', allowed_origins: [env.url] })).body;
  segment = (await env.call('POST', '/api/v1/segments', { name: 'Customers', kind: 'static' })).body;
  const stages = (await env.call('GET', '/api/v1/stages')).body.data as { id: number; name: string }[];
  stage = stages[0] ?? (await env.call('POST', '/api/v1/stages', { name: 'Lead', position: 1 })).body;
  expect(site.id && segment.id && stage.id).toBeTruthy();
}, 90_000);
afterAll(() => env?.stop());

const VISITOR = 'visitor000000000000042';

/** name → content name, as GET /focus (what the tag asks after a page view) answers the visitor. */
async function shown(): Promise<Record<string, string | null>> {
  const q = new URLSearchParams({ k: site.public_key, u: `${env.url}/`, v: VISITOR });
  const r = await fetch(`${env.url}/focus?${q}`, { headers: { origin: env.url, 'user-agent': CHROME_UA } });
  expect(r.status).toBe(200);
  const body = await r.json();
  return Object.fromEntries(((body.slots ?? []) as { name: string; variant: string | null }[]).map((s) => [s.name, s.variant]));
}

async function track(events: unknown[]) {
  const r = await fetch(`${env.url}/t`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain;charset=UTF-8', origin: env.url, 'user-agent': CHROME_UA },
    body: JSON.stringify({ k: site.public_key, v: VISITOR, e: events }),
  });
  expect(r.status).toBe(202);
}

describe('Slots in Chromium', () => {
  it('a marketer creates a slot with two rules; /focus follows their order; reordered, it follows the new one; stats and delete', async () => {
    const w = await env.signInAs(MARKETER, ADMIN.password, '/app/pages', 'Landing pages');
    const p = w.page;
    await settled(p);
    await p.getByRole('link', { name: /^Slots: dynamic content/ }).click();
    await p.getByRole('heading', { name: 'Slots', level: 1 }).waitFor();
    await expectCleanView(w, `${env.url}/app/slots`, 'Slots');
    await p.getByText('No slots yet.').waitFor();
    await p.getByRole('link', { name: 'New slot' }).click();
    await p.getByRole('heading', { name: 'New slot', level: 1 }).waitFor();
    await expectCleanView(w, `${env.url}/app/slots/new`, 'New slot');

    // The snippet follows the name and the default content, and copies exactly.
    await p.getByLabel('Name', { exact: true }).fill('Hero Banner!');
    await p.getByLabel('Site', { exact: true }).selectOption(String(site.id));
    await p.getByLabel('Default content', { exact: true }).fill('Welcome to our shop');
    const snippet = p.locator('#slot-snippet');
    expect(await snippet.textContent()).toBe('<div data-leadline-slot="Hero Banner!">Welcome to our shop</div>');

    // Rule 1: anonymous visitors, Markdown with a script and a handler that the preview does not keep.
    const rule = (n: number) => p.locator('.rule-card').nth(n);
    await rule(0).getByLabel('Shows when').selectOption('anonymous');
    await rule(0).getByLabel('Content name').fill('strangers');
    await rule(0).getByLabel('Content', { exact: true }).fill('Hello **stranger** <script>parent.hacked = 1</script><a href="/x" onclick="parent.hacked = 2">go</a>');
    const preview0 = p.frameLocator('.rule-card >> nth=0 >> iframe.slot-frame');
    await preview0.locator('strong').filter({ hasText: 'stranger' }).waitFor();
    expect(await preview0.locator('script').count()).toBe(0);
    expect(await preview0.locator('a').getAttribute('onclick')).toBeNull();
    // Rule 2: everyone, HTML.
    await p.getByRole('button', { name: 'Add rule' }).click();
    await expect.poll(() => p.evaluate(() => document.activeElement?.id)).toMatch(/^rule-\d+-condition$/);
    await rule(1).getByLabel('Shows when').selectOption('any');
    await rule(1).getByLabel('Content name').fill('everyone');
    await rule(1).getByLabel('Format').selectOption('html');
    await rule(1).getByLabel('Content', { exact: true }).fill('<p>For <em>everyone</em></p>');
    await p.frameLocator('.rule-card >> nth=1 >> iframe.slot-frame').locator('em').filter({ hasText: 'everyone' }).waitFor();

    // The server refuses the name: its message is next to the name field, and nothing is stored.
    await p.getByRole('button', { name: 'Create slot' }).click();
    const name = p.getByLabel('Name', { exact: true });
    await expect.poll(() => name.getAttribute('aria-invalid')).toBe('true');
    expect((await env.call('GET', '/api/v1/slots')).body.data).toEqual([]);
    await name.fill('hero');
    expect(await snippet.textContent()).toBe('<div data-leadline-slot="hero">Welcome to our shop</div>');
    await p.getByRole('button', { name: 'Create slot' }).click();
    await p.getByRole('status').filter({ hasText: 'Slot saved.' }).waitFor();
    await p.getByRole('heading', { name: 'Slot “hero”', level: 1 }).waitFor();
    const id = Number(/\/app\/slots\/(\d+)/.exec(p.url())![1]);
    const stored = (await env.call('GET', `/api/v1/slots/${id}`)).body;
    expect(stored).toMatchObject({ site_id: site.id, name: 'hero', active: true });
    expect(stored.rules).toEqual([
      { when: { identity: 'anonymous' }, variant: 'strangers' },
      { when: { identity: 'any' }, variant: 'everyone' },
    ]);
    expect(stored.variants.map((v: any) => [v.key, v.format])).toEqual([
      ['strangers', 'markdown'],
      ['everyone', 'html'],
    ]);
    // An anonymous visitor: both rules hold, the first wins.
    expect(await shown()).toEqual({ hero: 'strangers' });
    await expectCleanView(w, p.url(), 'Slot “hero”');

    // Rule 2 moves up with the keyboard; the focus stays on it; saved, the visitor gets it.
    await p.getByRole('button', { name: 'Move up rule 2' }).focus();
    await p.keyboard.press('Enter');
    await expect.poll(() => p.locator('.rule-card').evaluateAll((els) => els.map((e) => e.getAttribute('data-key')))).toEqual(['everyone', 'strangers']);
    await expect.poll(() => p.evaluate(() => document.activeElement?.textContent)).toBe('Move down rule 1');
    await p.getByText('Unsaved changes.').waitFor();
    await p.getByRole('button', { name: 'Save slot' }).click();
    await p.getByRole('status').filter({ hasText: 'Saved: visitors see the change' }).waitFor();
    expect((await env.call('GET', `/api/v1/slots/${id}`)).body.rules.map((r: any) => r.variant)).toEqual(['everyone', 'strangers']);
    expect(await shown()).toEqual({ hero: 'everyone' });

    // The pickers: rule 1 for a segment, rule 2 for a stage (neither holds for an anonymous visitor).
    await rule(0).getByLabel('Shows when').selectOption('segment');
    await rule(0).getByLabel('Segment').selectOption({ label: segment.name });
    await rule(1).getByLabel('Shows when').selectOption('stage');
    await rule(1).getByLabel('Stage').selectOption({ label: stage.name });
    await p.getByRole('button', { name: 'Save slot' }).click();
    await p.getByRole('status').filter({ hasText: 'Saved: visitors see the change' }).waitFor();
    expect((await env.call('GET', `/api/v1/slots/${id}`)).body.rules).toEqual([
      { when: { filter: { segment: segment.id, member: true } }, variant: 'everyone' },
      { when: { stage_id: stage.id }, variant: 'strangers' },
    ]);
    expect(await shown()).toEqual({ hero: null });

    // Views and clicks as the tag sends them, per content.
    const ev = (t: string, variant: string) => ({ t, u: `${env.url}/`, p: { slot_id: id, slot: 'hero', variant } });
    await track([ev('sv', 'everyone'), ev('sv', 'everyone'), ev('sc', 'everyone'), ev('sv', 'default')]);
    expect((await env.call('POST', '/api/v1/jobs/reactions')).status).toBe(200);
    await p.reload();
    await p.getByRole('heading', { name: 'Slot “hero”', level: 1 }).waitFor();
    await settled(p);
    const stats = p.getByRole('region', { name: 'Views and clicks per content' });
    const row = async (key: string) => (await stats.locator(`tr[data-key="${key}"]`).locator('th, td').allTextContents()).map((s) => s.trim());
    expect(await row('everyone')).toEqual(['everyone', `rule 1: in segment “${segment.name}”`, '2', '1', '50%']);
    expect(await row('strangers')).toEqual(['strangers', `rule 2: at stage “${stage.name}”`, '0', '0', '–']);
    expect(await row('default')).toEqual(['Default (the page’s own)', 'when no rule holds', '1', '0', '0%']);
    // The rules came back from the server as they were saved.
    expect(await rule(0).getByLabel('Segment').inputValue()).toBe(String(segment.id));
    expect(await rule(1).getByLabel('Stage').inputValue()).toBe(String(stage.id));
    expect(await axe(p)).toEqual([]);
    const phone = await env.openSameSession(w, { width: 390, height: 800 });
    await expectCleanView(phone, `${env.url}/app/slots/${id}`, 'Slot “hero”');
    await phone.close();

    // Listed, then deleted after asking.
    await expectCleanView(w, `${env.url}/app/slots`, 'Slots');
    const listed = p.getByRole('region', { name: 'Slots' }).getByRole('row', { name: /hero/ });
    expect((await listed.locator('td').allTextContents()).slice(0, 3)).toEqual([site.name, '2', 'Active']);
    await listed.getByRole('link', { name: 'hero' }).click();
    await p.getByRole('heading', { name: 'Slot “hero”', level: 1 }).waitFor();
    await p.getByRole('button', { name: 'Delete slot' }).click();
    await p.getByRole('group', { name: 'Confirm' }).getByRole('button', { name: 'Delete slot' }).click();
    await p.getByText('Slot “hero” deleted.').waitFor();
    expect((await env.call('GET', `/api/v1/slots/${id}`)).status).toBe(404);
    expect(w.errors).toEqual([]);
    await w.close();
  }, 180_000);
});
