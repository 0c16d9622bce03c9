import type { TestApp } from './helpers';
import { makeSite } from './tracking-helpers';

// Shared by the landing page tests (test/pages*.test.ts).

export async function mkForm(t: TestApp, body: Record<string, unknown> = {}) {
  const r = await t.json('POST', '/api/v1/forms', {
    name: 'Webinar signup',
    fields: [
      { key: 'email', label: 'Email', type: 'email', maps_to: 'email', required: true },
      { key: 'first_name', label: 'First name', type: 'text', maps_to: 'first_name' },
    ],
    min_fill_ms: 0,
    ...body,
  });
  if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  return r.body as { id: number; name: string };
}

export async function mkPage(t: TestApp, body: Record<string, unknown>, publish = false) {
  const r = await t.json('POST', '/api/v1/pages', { title: 'Landing', ...body });
  if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  if (publish) {
    const p = await t.json('POST', `/api/v1/pages/${r.body.id}/publish`);
    if (p.status !== 200) throw new Error(JSON.stringify(p.body));
    return p.body;
  }
  return r.body;
}

/** A site, a form and the basics of a page body using them. */
export async function setup(t: TestApp) {
  const site = await makeSite(t, { allowed_origins: ['https://shop.example.com', 'http://localhost'] });
  const form = await mkForm(t);
  return { site, form };
}

export async function get(t: TestApp, path: string, headers: Record<string, string> = {}) {
  const res = await t.app.request(path, { headers, redirect: 'manual' });
  return { status: res.status, headers: res.headers, text: await res.text() };
}
