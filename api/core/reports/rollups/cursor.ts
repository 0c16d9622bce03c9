import { unseenAfter } from '../../spine/types';

/** The reaction's name: its cursor in reaction_cursors. */
export const ROLLUPS = 'rollups';
// While a rebuild runs, its own position sits in reaction_cursors under this name.
export const REBUILD = 'rollups-rebuild';

/**
 * Rebuilding and the reaction, without counting anything twice or missing it:
 *
 * - A rebuild starts by writing its marker (position 0) and emptying rollups and sessions, in one
 *   transaction. While the marker exists the reaction's range is empty (LIVE_AFTER is NULL): it
 *   goes on moving its cursor over new events but counts nothing, so a runner that read events
 *   before the rebuild began and commits after it adds nothing either.
 * - The rebuild counts the log from the start in chunks, each in one transaction with the move
 *   of its position, bounded by that position as the reaction is by its cursor (REBUILD_AFTER):
 *   two rebuild runners (a resumed one and a new request) count each event once, and a crash
 *   loses nothing (the next run resumes where the marker says).
 * - It ends, in one transaction, when no event lies between its position and the reaction's
 *   cursor: the cursor moves up to the position (the max event id the rebuild counted) and the
 *   marker goes. A reaction runner holding older events then finds its range starting at that
 *   position. If the reaction's cursor went past events the rebuild has not counted yet (new
 *   events arrived meanwhile, passed over by the held-off reaction), the rebuild counts them first.
 *
 * Holding the reaction off rather than letting it count along keeps sessions right: a page view
 * extends the visitor's session before it, which must exist, so sessions are built in id order
 * by one writer at a time. The reports show partial figures while a rebuild runs.
 */
export const LIVE_AFTER = `(SELECT CASE WHEN EXISTS (SELECT 1 FROM reaction_cursors WHERE name = '${REBUILD}') THEN NULL ELSE ${unseenAfter(ROLLUPS)} END)`;
export const REBUILD_AFTER = `(SELECT last_event_id FROM reaction_cursors WHERE name = '${REBUILD}')`;

/** Up to which event id rollups have counted (the rebuild's position while one runs), as SQL. */
export const COUNTED_UP_TO = `coalesce(${REBUILD_AFTER}, ${unseenAfter(ROLLUPS)})`;

