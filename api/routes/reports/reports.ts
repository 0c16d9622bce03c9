import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { REPORTS } from '../../core/reports/registry';
import { reportCsv, reportQuery, reportSchema, runReport, type ReportDef } from '../../core/reports/report';
import { errors, security, type AppEnv } from '../shared';

// GET /api/v1/reports/{name} for every report in the registry: JSON by default, CSV when the
// client asks for text/csv first. One operation per report, so each has its typed schemas.

const pascal = (s: string) => s.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());

/** Whether the Accept header prefers CSV to JSON (q-values honoured, order breaks ties). */
export function wantsCsv(accept: string | undefined): boolean {
  if (!accept) return false;
  let best: { type: string; q: number } | null = null;
  for (const part of accept.split(',').slice(0, 20)) {
    const [type = '', ...params] = part.trim().toLowerCase().split(';');
    if (type !== 'text/csv' && type !== 'application/json' && type !== '*/*' && type !== 'application/*' && type !== 'text/*') continue;
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qp ? Number(qp.slice(2)) : 1;
    if (!(q > 0)) continue;
    if (!best || q > best.q) best = { type, q };
  }
  return best?.type === 'text/csv' || best?.type === 'text/*';
}

function reportRoute(app: OpenAPIHono<AppEnv>, def: ReportDef) {
  return app.openapi(
    createRoute({
      method: 'get',
      path: `/api/v1/reports/${def.name}`,
      operationId: `get${pascal(def.name)}Report`,
      tags: [def.tag],
      security,
      summary: def.summary,
      description: `${def.description}\n\nAnswers \`{columns, rows, totals}\` as JSON, or the same table as CSV with \`Accept: text/csv\`.`,
      request: { query: reportQuery(def) },
      responses: {
        200: {
          description: 'The report',
          content: {
            'application/json': { schema: reportSchema(def).openapi(`${pascal(def.name)}Report`) },
            'text/csv': { schema: z.string().openapi({ description: 'A header of column keys, one line per row, then a `total` line' }) },
          },
        },
        ...errors(404),
      },
    }),
    async (c) => {
      const result = await runReport(c.get('ctx'), def, c.req.valid('query') as Record<string, unknown>);
      if (wantsCsv(c.req.header('accept'))) {
        const name = `${def.name}-${result.from.slice(0, 10)}-${result.to.slice(0, 10)}.csv`;
        return c.body(reportCsv(result), 200, { 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `attachment; filename="${name}"`, Vary: 'Accept' });
      }
      c.header('Vary', 'Accept');
      return c.json(result as never, 200);
    },
  );
}

export function reportRoutes() {
  const app = new OpenAPIHono<AppEnv>();
  for (const def of REPORTS) reportRoute(app, def);
  return app;
}
