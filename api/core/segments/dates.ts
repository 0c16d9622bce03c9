const DAY = 86_400_000;

const startOfDay = (t: number) => t - (((t % DAY) + DAY) % DAY);

/**
 * A date value as a half-open UTC range [start, end): "today", "yesterday",
 * "-7d"/"+3d" (that day), "this_month", "last_month", "YYYY-MM-DD" (that day),
 * or an ISO date-time (that millisecond). null when it is none of these.
 */
export function dateRange(value: unknown, now: number): [number, number] | null {
  if (typeof value === 'number' && Number.isFinite(value)) return [value, value + 1];
  if (typeof value !== 'string') return null;
  const v = value.trim().toLowerCase();
  const today = startOfDay(now);
  if (v === 'today') return [today, today + DAY];
  if (v === 'yesterday') return [today - DAY, today];
  if (v === 'tomorrow') return [today + DAY, today + 2 * DAY];
  const rel = /^([+-]\d{1,4})d$/.exec(v);
  if (rel) {
    const s = today + Number(rel[1]) * DAY;
    return [s, s + DAY];
  }
  if (v === 'this_month' || v === 'last_month' || v === 'next_month') {
    const d = new Date(now);
    const shift = v === 'this_month' ? 0 : v === 'last_month' ? -1 : 1;
    const s = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + shift, 1);
    return [s, Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + shift + 1, 1)];
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) {
    const s = Date.parse(v + 'T00:00:00Z');
    return Number.isNaN(s) ? null : [s, s + DAY];
  }
  if (/^\d{4}-\d{2}-\d{2}t/.test(v)) {
    const t = Date.parse(value);
    return Number.isNaN(t) ? null : [t, t + 1];
  }
  return null;
}

/** True when the value depends on the current time (so membership drifts as time passes). */
export function isRelative(value: unknown): boolean {
  return typeof value === 'string' && /^(today|yesterday|tomorrow|[+-]\d+d|this_month|last_month|next_month)$/i.test(value.trim());
}
