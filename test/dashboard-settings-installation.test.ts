// GET /api/v1/sites/{id}/installation: the answer behind Settings → Sites → "Check installation".
import { describe, expect, it } from 'vitest';
import { expectError, makeApp } from './helpers';
import { makeSite, runJob, track, vid } from './tracking-helpers';

const ORIGIN = 'https://shop.example.com';
const pv = (path = '/') => ({ t: 'pv', u: `${ORIGIN}${path}` });

describe('GET /api/v1/sites/{id}/installation', () => {
  it('says no hits for a new site, then when the last hit was, before and after the visits are counted', async () => {
    let now = Date.parse('2026-03-02T10:00:00Z');
    const t = await makeApp({ now: () => now });
    const site = await makeSite(t);
    const other = await makeSite(t, { name: 'Other' });

    expect((await t.json('GET', `/api/v1/sites/${site.id}/installation`)).body).toEqual({ received: false, last_hit_at: null });

    // A hit from an origin the site does not allow is refused: still nothing.
    expect((await track(t, { k: site.public_key, v: vid(1), e: [pv()] }, { origin: 'https://elsewhere.example.org' })).status).toBe(403);
    expect((await t.json('GET', `/api/v1/sites/${site.id}/installation`)).body.received).toBe(false);

    expect((await track(t, { k: site.public_key, v: vid(1), e: [pv('/a')] })).status).toBe(202);
    // Stored, not yet counted into visits: it shows at once.
    expect((await t.json('GET', `/api/v1/sites/${site.id}/installation`)).body).toEqual({ received: true, last_hit_at: '2026-03-02T10:00:00.000Z' });
    // Another site's hits are not this one's.
    expect((await t.json('GET', `/api/v1/sites/${other.id}/installation`)).body).toEqual({ received: false, last_hit_at: null });

    now += 60_000;
    expect((await track(t, { k: site.public_key, v: vid(2), e: [pv('/b')] })).status).toBe(202);
    await runJob(t);
    // Counted into visits (the backlog is empty now): the same answer, from the sessions.
    expect(Number((await t.client.execute("SELECT count(*) AS n FROM sessions")).rows[0]!.n)).toBe(2);
    expect((await t.json('GET', `/api/v1/sites/${site.id}/installation`)).body).toEqual({ received: true, last_hit_at: '2026-03-02T10:01:00.000Z' });
    expect((await t.json('GET', `/api/v1/sites/${other.id}/installation`)).body.received).toBe(false);
  });

  it('answers 404 for an unknown site and needs a key', async () => {
    const t = await makeApp();
    expectError(await t.json('GET', '/api/v1/sites/999/installation'), 404, 'NOT_FOUND');
    expectError(await t.json('GET', '/api/v1/sites/1/installation', undefined, { key: null }), 401, 'UNAUTHORIZED');
  });
});
