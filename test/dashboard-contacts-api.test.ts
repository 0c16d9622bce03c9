// What the dashboard's contacts list asks of the API beyond search, tag and company: members of a
// segment, contacts at a stage, a points range (each combinable with the others and with the
// keyset cursor), the same filters on the CSV export, and each contact's stage_id.
import { describe, expect, it } from 'vitest';
import { expectError, makeApp } from './helpers';

describe('contact list filters for the dashboard', () => {
  it('filters by segment, stage and points, alone and together, page by page, and exports the same', async () => {
    const t = await makeApp();
    const ids: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await t.json('POST', '/api/v1/contacts', { email: `p${i}@example.com`, first_name: `P${i}` });
      expect(r.status).toBe(201);
      expect(r.body.stage_id).toBeNull();
      ids.push(r.body.id);
    }
    // Points 0, 10, 20, 30, 40, 50.
    for (const [i, id] of ids.entries()) {
      if (i) expect((await t.json('POST', `/api/v1/contacts/${id}/points`, { op: 'set', value: i * 10, reason: 'test' })).status).toBe(200);
    }
    const stage = await t.json('POST', '/api/v1/stages', { name: 'Filter stage', position: 9 });
    expect(stage.status).toBe(201);
    for (const id of ids.slice(2, 5)) expect((await t.json('PUT', `/api/v1/contacts/${id}/stage`, { stage_id: stage.body.id })).status).toBe(200);
    const seg = await t.json('POST', '/api/v1/segments', { name: 'Picked', kind: 'static' });
    expect(seg.status).toBe(201);
    for (const id of [ids[1], ids[3], ids[4], ids[5]]) expect((await t.json('PUT', `/api/v1/segments/${seg.body.id}/members/${id}`)).status).toBe(200);

    const list = async (q: string) => {
      const r = await t.json('GET', `/api/v1/contacts?order=asc&${q}`);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body;
    };
    const idsOf = (page: any) => page.data.map((c: any) => c.id);
    expect(idsOf(await list(`segment_id=${seg.body.id}`))).toEqual([ids[1], ids[3], ids[4], ids[5]]);
    expect(idsOf(await list(`stage_id=${stage.body.id}`))).toEqual([ids[2], ids[3], ids[4]]);
    expect((await list(`stage_id=${stage.body.id}`)).data.every((c: any) => c.stage_id === stage.body.id)).toBe(true);
    expect(idsOf(await list('points_min=20'))).toEqual(ids.slice(2));
    expect(idsOf(await list('points_max=20'))).toEqual(ids.slice(0, 3));
    expect(idsOf(await list('points_min=10&points_max=30'))).toEqual(ids.slice(1, 4));
    expect(idsOf(await list(`segment_id=${seg.body.id}&stage_id=${stage.body.id}&points_min=40`))).toEqual([ids[4]]);

    // Keyset pages keep the filter.
    const first = await list(`segment_id=${seg.body.id}&limit=2`);
    expect(idsOf(first)).toEqual([ids[1], ids[3]]);
    expect(first.has_more).toBe(true);
    const second = await list(`segment_id=${seg.body.id}&limit=2&cursor=${encodeURIComponent(first.next_cursor)}`);
    expect(idsOf(second)).toEqual([ids[4], ids[5]]);

    // The detail shows the stage too.
    expect((await t.json('GET', `/api/v1/contacts/${ids[3]}`)).body.stage_id).toBe(stage.body.id);

    // The export takes the same filters.
    const csv = await (await t.call('GET', `/api/v1/contacts/export.csv?stage_id=${stage.body.id}&points_min=30&order=asc`)).text();
    const lines = csv.trim().split('\r\n');
    expect(lines.slice(1).map((l) => Number(l.split(',')[0]))).toEqual([ids[3], ids[4]]);

    // Bad values are 422s naming the parameter.
    const bad = await t.json('GET', '/api/v1/contacts?points_min=lots');
    expectError(bad, 422, 'VALIDATION_FAILED');
    expect(bad.body.error.details[0].field).toContain('points_min');
    expectError(await t.json('GET', '/api/v1/contacts?segment_id=0'), 422, 'VALIDATION_FAILED');
  });
});
