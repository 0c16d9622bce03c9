// Numbers and dates for people, in the browser's locale.

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const percent = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 });

export type CellType = 'string' | 'integer' | 'number' | 'datetime' | 'date';

/** A report column's value; `key` tells rates (shares 0–1) from other numbers. */
export function formatCell(value: unknown, type: CellType, key = ''): string {
  if (value === null || value === undefined || value === '') return '–';
  if (type === 'integer' && typeof value === 'number') return integer.format(value);
  if (type === 'number' && typeof value === 'number') return /(_rate|^share)$/.test(key) ? percent.format(value) : decimal.format(value);
  if (type === 'datetime' && typeof value === 'string') return formatDateTime(value);
  return String(value);
}

export const formatInteger = (n: number) => integer.format(n);
export const formatPercent = (n: number) => percent.format(n);

export function formatMoney(amount: number, currency: string | null | undefined): string {
  if (!currency) return decimal.format(amount);
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency, maximumFractionDigits: 0 }).format(amount);
  } catch {
    return `${decimal.format(amount)} ${currency}`;
  }
}

// toLocaleString with options builds a new formatter on every call (a fraction of a millisecond
// each: a 50-row table with three dates a row spent tens of milliseconds on it); one per style and
// zone does. An unknown zone throws, as toLocaleString would.
const STYLES = {
  datetime: { dateStyle: 'medium', timeStyle: 'short' },
  hour: { dateStyle: 'short', timeStyle: 'short' },
  month: { year: 'numeric', month: 'short' },
  date: { dateStyle: 'medium' },
} satisfies Record<string, Intl.DateTimeFormatOptions>;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(style: keyof typeof STYLES, tz: string | undefined): Intl.DateTimeFormat {
  const key = `${style} ${tz ?? ''}`;
  let f = formatters.get(key);
  if (!f) formatters.set(key, (f = new Intl.DateTimeFormat(undefined, { ...STYLES[style], timeZone: tz })));
  return f;
}

export function formatDateTime(iso: string, tz?: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return formatter('datetime', tz).format(d);
}

/** A bucket's start as a label for its interval (the report's tz). */
export function formatBucket(iso: string, interval: string | null, tz: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return formatter(interval === 'hour' ? 'hour' : interval === 'month' ? 'month' : 'date', tz).format(d);
}

/** Column keys as words: "bounce_rate" → "Bounce rate". */
export const label = (key: string) => (key.charAt(0).toUpperCase() + key.slice(1)).replace(/_/g, ' ');
