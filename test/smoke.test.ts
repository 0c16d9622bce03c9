import { describe, it, expect } from 'vitest';
import { makeApp } from './helpers';

describe('smoke', () => {
  it('health', async () => {
    const t = await makeApp();
    const r = await t.json('GET', '/health');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ok: true, db: 'ok' });
  });
});
