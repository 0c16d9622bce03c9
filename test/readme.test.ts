import { describe, it, expect, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_KEY, root, startNode, type NodeServer } from './node-server';

// The README's shell examples, run as a new user would: in order, against a
// started server, each curl failing the walk on any 4xx/5xx. Only the key
// placeholder and the port are filled in, as the README tells a user to.

interface Block {
  line: number;
  code: string;
}

function shellBlocks(markdown: string): Block[] {
  const out: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```sh') continue;
    const start = i + 1;
    const body: string[] = [];
    while (++i < lines.length && lines[i]!.trim() !== '```') body.push(lines[i]!);
    out.push({ line: start, code: body.join('\n') });
  }
  return out;
}

// Installing, starting, testing and deploying are not API examples.
const runnable = (b: Block) => !/^\s*(npm |npx |turso )/m.test(b.code);

describe('README', () => {
  let server: NodeServer | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  it('its shell examples run as written against a started server', async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const blocks = shellBlocks(readme);
    const run = blocks.filter(runnable);
    // The walk covers the examples that matter; a README that lost them should fail here.
    expect(run.length).toBeGreaterThanOrEqual(4);
    expect(run.map((b) => b.code).join('\n')).toMatch(/api\/v1\/contacts\/import[\s\S]*api\/v1\/segments[\s\S]*api\/v1\/emails/);

    server = await startNode();
    const url = `http://127.0.0.1:${server.port}`;
    const script = [
      'set -euo pipefail',
      // Every call fails the walk on an HTTP error and shows what came back.
      'curl() { command curl -sS --fail-with-body --max-time 20 "$@"; echo; }',
      ...run.map((b) =>
        [
          `echo "### README line ${b.line}"`,
          b.code.replaceAll('ll_…', ADMIN_KEY).replaceAll('http://127.0.0.1:8787', url),
        ].join('\n'),
      ),
    ].join('\n');
    const r = spawnSync('bash', ['-c', script], { cwd: server.dir, encoding: 'utf8', timeout: 120_000, env: { PATH: process.env.PATH!, HOME: server.dir } });
    if (r.status !== 0) throw new Error(`README example failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);

    // What the examples did is there.
    const api = async (path: string) => {
      const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      expect(res.status, path).toBe(200);
      return (await res.json()) as any;
    };
    const ada = (await api('/api/v1/contacts?q=ada')).data[0];
    expect(ada).toMatchObject({ email: 'ada@example.com', first_name: 'Ada', fields: { plan: 'pro' }, tags: ['newsletter'] });
    const grace = (await api('/api/v1/contacts?q=grace')).data[0];
    expect(grace).toMatchObject({ first_name: 'Grace', fields: { plan: 'pro' }, tags: ['fair-2026'] });
    expect(readFileSync(join(server.dir, 'export.csv'), 'utf8')).toContain('ada@example.com');
    expect((await api('/api/v1/segments')).data.map((s: any) => s.name)).toContain('Hot pros');
    expect((await api('/api/v1/sites')).data.map((s: any) => s.name)).toContain('Marketing site');
    expect(existsSync(join(server.dir, 'contacts.csv'))).toBe(true);
    // The email went to the local outbox, personalised and sent once (the campaign's emails are there too).
    const box = (await api('/api/v1/outbox?limit=100')).data;
    const welcome = box.filter((m: any) => m.subject.startsWith('Welcome'));
    expect(welcome).toEqual([expect.objectContaining({ to: 'ada@example.com', subject: 'Welcome, Ada' })]);
    const message = await api(`/api/v1/outbox/${welcome[0].id}`);
    expect(message.html).toMatch(/<h1 style="color: #1f4fd1;">Hi Ada<\/h1><p>You are on pro\.<\/p>/);

    // The campaign: published with the segment's two members, one contact enrolled by hand, each
    // at its first step; Ada's path starts with the welcome email.
    const [campaign] = (await api('/api/v1/campaigns')).data;
    expect(campaign).toMatchObject({ name: 'Onboarding', status: 'active', version: 1 });
    expect(campaign).not.toHaveProperty('secret');
    const report = await api(`/api/v1/campaigns/${campaign.id}/report`);
    expect(report.passes).toMatchObject({ entered: 3, active: 3 });
    expect(report.steps.find((s: any) => s.step_id === 'welcome').entered).toBe(3);
    const [pass] = (await api(`/api/v1/contacts/${ada.id}/campaigns`)).data;
    expect(pass).toMatchObject({ campaign: { id: campaign.id, name: 'Onboarding' }, version: 1, status: 'active', source: expect.stringMatching(/^segment:/) });
    expect(pass.path[0].step_id).toBe('welcome');
    expect((await api('/api/v1/sites')).data.find((s: any) => s.name === 'Marketing site').timezone).toBe('Europe/Paris');
  }, 180_000);
});
