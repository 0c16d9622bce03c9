import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { getEmailSettings, updateEmailSettings } from '../../core/email/settings';
import { SettingsPatch } from '../../core/email/schema';
import { COMPLAINT_THRESHOLD, COMPLAINT_WINDOW, emailAlerts } from '../../core/email/reports';
import type { Ctx } from '../../core/context';
import { errors, json, jsonBody, security, type AppEnv } from '../shared';

const tags = ['Email settings'];

const Settings = z
  .object({
    frequency_cap: z.object({
      per_day: z.number().int().nullable().openapi({ description: 'At most this many marketing emails per contact in 24 hours; null: no cap' }),
      per_week: z.number().int().nullable().openapi({ description: 'At most this many marketing emails per contact in 7 days; null: no cap' }),
    }),
    alerts: z
      .array(
        z.object({
          code: z.enum(['complaint_rate']),
          rate: z.number().openapi({ description: 'Complaints / messages in the window' }),
          window: z.number().int().openapi({ description: `Messages looked at: the last ${COMPLAINT_WINDOW} sent (fewer on a new installation)` }),
          complaints: z.number().int(),
          threshold: z.number().openapi({ example: COMPLAINT_THRESHOLD }),
          message: z.string(),
        }),
      )
      .openapi({
        description: `Read-only, computed on every read: \`complaint_rate\` when more than ${COMPLAINT_THRESHOLD * 100}% of the last ${COMPLAINT_WINDOW} messages sent were marked as spam (Resend webhook). Empty when all is well.`,
      }),
  })
  .openapi('EmailSettings');

// The account-level alerts live here: this installation has no account resource, and these are its email settings' readings.
const withAlerts = async <T extends object>(ctx: Ctx, settings: T) => ({ ...settings, alerts: await emailAlerts(ctx) });

export const emailSettingsRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      method: 'get',
      path: '/api/v1/email-settings',
      operationId: 'getEmailSettings',
      tags,
      security,
      summary: 'Get email settings',
      responses: { 200: json(Settings, 'The settings'), ...errors() },
    }),
    async (c) => c.json(await withAlerts(c.get('ctx'), await getEmailSettings({ ctx: c.get('ctx') })), 200),
  )
  .openapi(
    createRoute({
      method: 'patch',
      path: '/api/v1/email-settings',
      operationId: 'updateEmailSettings',
      tags,
      security,
      summary: 'Update email settings',
      description:
        'Frequency caps count marketing emails sent to a contact (and those queued or sending) in the last 24 hours or 7 days; a send over a cap is recorded as skipped with `frequency_cap`. Tests and transactional emails are not capped.',
      request: { body: jsonBody(SettingsPatch.openapi('EmailSettingsPatch', { example: { frequency_cap: { per_day: 1, per_week: 3 } } })) },
      responses: { 200: json(Settings, 'Updated'), ...errors(415) },
    }),
    async (c) => c.json(await withAlerts(c.get('ctx'), await updateEmailSettings({ ctx: c.get('ctx'), input: c.req.valid('json') })), 200),
  );
