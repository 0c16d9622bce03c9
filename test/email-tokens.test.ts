// Signed email link tokens (api/core/email/tokens.ts): what a recipient's client can and cannot do with one.
import { describe, it, expect } from 'vitest';
import { makeApp } from './helpers';
import { createCtx } from '../api/core/context';
import { signToken, verifyToken } from '../api/core/email/tokens';

describe('email link tokens', () => {
  it('verify only untouched tokens of their own kind, the same bytes for the same payload', async () => {
    const t = await makeApp({ memory: true });
    const tok = await signToken(t.ctx, 'click', [7, 'https://shop.example.com/a?b=1']);
    expect(tok).toBe(await signToken(t.ctx, 'click', [7, 'https://shop.example.com/a?b=1']));
    expect(tok).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(await verifyToken(t.ctx, 'click', tok)).toEqual([7, 'https://shop.example.com/a?b=1']);
    // Another kind, a changed payload, a changed MAC, junk: all null.
    expect(await verifyToken(t.ctx, 'open', tok)).toBeNull();
    const [body, sig] = tok.split('.') as [string, string];
    const forged = btoa(JSON.stringify([7, 'https://evil.example.net/'])).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    expect(await verifyToken(t.ctx, 'click', `${forged}.${sig}`)).toBeNull();
    expect(await verifyToken(t.ctx, 'click', `${body}.${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`)).toBeNull();
    // Every other spelling of the same MAC bytes (the last character's 4 padding bits) too.
    const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(sig.at(-1)!);
    for (let pad = 1; pad < 16; pad++) {
      const other = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[(last & 0b110000) | pad]!;
      expect(await verifyToken(t.ctx, 'click', `${body}.${sig.slice(0, -1)}${other}`)).toBeNull();
    }
    for (const junk of ['', '.', 'a.b', `${body}.${sig}.x`, `${body}`, '\u0000.\ud800', 'x'.repeat(5000), `${body}.${sig}=`]) {
      expect(await verifyToken(t.ctx, 'click', junk), junk.slice(0, 20)).toBeNull();
    }
  });

  it('keep working across restarts (the generated secret is stored), and follow SECRET when it is set', async () => {
    const t = await makeApp();
    const tok = await signToken(t.ctx, 'unsubscribe', [1, 2]);
    const again = createCtx({ client: t.client, config: t.ctx.config });
    expect(await verifyToken(again, 'unsubscribe', tok)).toEqual([1, 2]);
    const withSecret = createCtx({ client: t.client, config: { ...t.ctx.config, SECRET: 'a-configured-secret-0123' } });
    expect(await verifyToken(withSecret, 'unsubscribe', tok)).toBeNull();
  });

  it('carry the MAC WebCrypto computes (HMAC-SHA-256 of "kind.body" under SECRET, first 16 bytes), so links already sent stay valid', async () => {
    const secret = 'a-configured-secret-0123';
    const t = await makeApp({ memory: true });
    const ctx = createCtx({ client: t.client, config: { ...t.ctx.config, SECRET: secret } });
    const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const payloads: unknown[][] = [[1, 2, 3], ['ünïcode@exämple.com', null, 9], [7, 0, 'https://shop.example.com/' + 'x'.repeat(300)], []];
    for (const kind of ['open', 'click', 'unsubscribe', 'identify'] as const) {
      for (const p of payloads) {
        const tok = await signToken(ctx, kind, p);
        const [body, sig] = tok.split('.') as [string, string];
        const tag = { open: 'o', click: 'c', unsubscribe: 'u', identify: 'i' }[kind];
        const want = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${tag}.${body}`))).slice(0, 16);
        expect(sig).toBe(Buffer.from(want).toString('base64url'));
        expect(await verifyToken(ctx, kind, tok)).toEqual(p);
      }
    }
  });
});
