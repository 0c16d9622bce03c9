// The reports benchmark's derived tables, built by the product's own rebuild code (the
// `reports-rebuild` job's functions, with the job's chunk), timed, with progress printed.
import type { Ctx } from '../../api/core/context';
import { rebuildRollups } from '../../api/core/reports/rollups/rebuild';
import { rebuildStageEntries } from '../../api/core/reports/funnel/entries';
import { fmtInt, now } from './lib';

export async function rebuildDerived(ctx: Ctx): Promise<Record<string, number>> {
  const t0 = now();
  let shown = 0;
  // The job's chunk (5,000), not a bigger one: memory grows with the chunk (50,000 events a
  // transaction peaked near 400 MB) while the rate barely does (see rebuildRollups).
  await rebuildRollups(ctx, {
    onProgress: (p) => {
      if (p.events - shown < 1_000_000 && p.lastId < p.maxId) return;
      shown = p.events;
      const s = (now() - t0) / 1000;
      console.log(`    sessions and rollups ${fmtInt(p.events).padStart(10)} events  ${s.toFixed(1)}s  (${fmtInt(p.events / s)}/s)`);
    },
  });
  const rollups_s = (now() - t0) / 1000;
  const t1 = now();
  let last = 0;
  await rebuildStageEntries(ctx, (p) => {
    if (p.contacts_done - last < 250_000 && p.contacts_done < p.contacts_total) return;
    last = p.contacts_done;
    console.log(`    stage entries ${fmtInt(p.contacts_done).padStart(10)} / ${fmtInt(p.contacts_total)} contacts  ${((now() - t1) / 1000).toFixed(1)}s`);
  });
  return { sessions_and_rollups_s: rollups_s, stage_entries_s: (now() - t1) / 1000 };
}
