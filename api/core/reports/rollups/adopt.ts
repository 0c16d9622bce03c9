import type { InStatement, InValue } from '@libsql/client';
import { pagePath } from './classify';
import { COUNTED_UP_TO } from './cursor';
import { DAILY, METRIC, PAGE } from './metrics';
import { DAY, HOUR } from '../query';

/**
 * A page view counted without a visitor that a consenting visitor takes over moves to a new id
 * at the end of the log (tracking/ingest.ts), where rollups count it again as the visitor's:
 * this takes its first count back, if it was counted (its old id at or below what rollups have
 * counted), in the transaction that moves it. `view` selects its id; `url` is its URL.
 */
export function uncountAdoptedView(view: { sql: string; args: InValue[] }, url: string | null): InStatement {
  return {
    sql: `WITH k AS (SELECT ? AS path) UPDATE rollups SET value = value - 1
      FROM (SELECT id, created_at, coalesce(site_id, 0) AS site FROM events WHERE id = (${view.sql})) x
      WHERE x.id <= ${COUNTED_UP_TO} AND rollups.metric = '${METRIC.pageviews}' AND rollups.site_id = x.site
        AND ((rollups.dim = '' AND rollups.key = '' AND rollups.hour = x.created_at / ${HOUR})
          OR (rollups.dim = '${PAGE}' AND rollups.key = (SELECT path FROM k) AND rollups.hour = x.created_at / ${HOUR})
          OR (rollups.dim = '${PAGE}${DAILY}' AND rollups.key = (SELECT path FROM k) AND rollups.hour = x.created_at / ${DAY} * 24))`,
    args: [pagePath(url), ...view.args],
  };
}
