import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { getEmailSettings, updateEmailSettings } from '../../core/email/settings';
import { SettingsPatch } from '../../core/email/schema';
import { errors, json, jsonBody, security, type AppEnv } from '../shared';

const tags = ['Email settings'];

const Settings = z
  .object({
    frequency_cap: z.object({
      per_day: z.number().int().nullable().openapi({ description: 'At most this many marketing emails per contact in 24 hours; null: no cap' }),
      per_week: z.number().int().nullable().openapi({ description: 'At most this many marketing emails per contact in 7 days; null: no cap' }),
    }),
  })
  .openapi('EmailSettings');

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
    async (c) => c.json(await getEmailSettings({ ctx: c.get('ctx') }), 200),
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
    async (c) => c.json(await updateEmailSettings({ ctx: c.get('ctx'), input: c.req.valid('json') }), 200),
  );
