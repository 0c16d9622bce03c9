import { z } from 'zod';
import type { Row } from '@libsql/client';
import type { Ctx } from '../context';
import { NotFoundError } from '../errors';
import { after, toPage, type Page, type PageInput } from '../util/cursor';
import { webhookSecret } from '../util/crypto';
import { iso } from '../util/time';

// CRMs that push deals to POST /webhooks/deals?integration=<id>, each signing with its own
// Standard Webhooks secret (whsec_…). The secret is answered on create and on rotate only.

export const DealIntegrationInput = z.strictObject({
  name: z.string().trim().min(1).max(200),
});

export interface DealIntegrationView {
  id: number;
  name: string;
  /** Where the CRM posts: this path on the server's public address. */
  webhook_path: string;
  created_at: string;
  updated_at: string;
}

export type DealIntegrationWithSecret = DealIntegrationView & { secret: string };

const view = (r: Row): DealIntegrationView => ({
  id: Number(r.id),
  name: String(r.name),
  webhook_path: `/webhooks/deals?integration=${Number(r.id)}`,
  created_at: iso(Number(r.created_at))!,
  updated_at: iso(Number(r.updated_at))!,
});

export async function createDealIntegration({ ctx, input }: { ctx: Ctx; input: z.output<typeof DealIntegrationInput> }): Promise<DealIntegrationWithSecret> {
  const now = ctx.now();
  const secret = webhookSecret();
  const r = await ctx.client.execute({
    sql: 'INSERT INTO deal_integrations (name, secret, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING *',
    args: [input.name, secret, now, now],
  });
  return { ...view(r.rows[0]!), secret };
}

export async function getDealIntegration({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<DealIntegrationView> {
  const r = await ctx.client.execute({ sql: 'SELECT id, name, created_at, updated_at FROM deal_integrations WHERE id = ?', args: [input.id] });
  if (!r.rows[0]) throw new NotFoundError('Deal integration');
  return view(r.rows[0]);
}

export async function listDealIntegrations({ ctx, input }: { ctx: Ctx; input: PageInput }): Promise<Page<DealIntegrationView>> {
  const a = after(input.cursor, null, 'id');
  const r = await ctx.client.execute({
    sql: `SELECT id, name, created_at, updated_at FROM deal_integrations WHERE ${a.sql} ORDER BY id LIMIT ?`,
    args: [...a.args, input.limit + 1],
  });
  return toPage(r.rows, input.limit, (x) => [null, Number(x.id)], view);
}

/** Deletes the integration: its webhook stops being accepted; the deals it pushed stay. */
export async function deleteDealIntegration({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<void> {
  const r = await ctx.client.execute({ sql: 'DELETE FROM deal_integrations WHERE id = ?', args: [input.id] });
  if (r.rowsAffected === 0) throw new NotFoundError('Deal integration');
}

/** A new signing secret, answered once; the old one stops working at once. */
export async function rotateDealIntegrationSecret({ ctx, input }: { ctx: Ctx; input: { id: number } }): Promise<DealIntegrationWithSecret> {
  const secret = webhookSecret();
  const r = await ctx.client.execute({
    sql: 'UPDATE deal_integrations SET secret = ?, updated_at = ? WHERE id = ? RETURNING *',
    args: [secret, ctx.now(), input.id],
  });
  if (!r.rows[0]) throw new NotFoundError('Deal integration');
  return { ...view(r.rows[0]), secret };
}

/** The signing secret of an integration, for verifying its webhooks; null when there is none. */
export async function dealIntegrationSecret(ctx: Ctx, id: number): Promise<string | null> {
  const r = await ctx.client.execute({ sql: 'SELECT secret FROM deal_integrations WHERE id = ?', args: [id] });
  return r.rows[0] ? String(r.rows[0].secret) : null;
}
