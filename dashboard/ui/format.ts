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

export function formatDateTime(iso: string, tz?: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short', timeZone: tz });
}

/** A bucket's start as a label for its interval (the report's tz). */
export function formatBucket(iso: string, interval: string | null, tz: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  if (interval === 'hour') return d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short', timeZone: tz });
  if (interval === 'month') return d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', timeZone: tz });
  return d.toLocaleDateString(undefined, { dateStyle: 'medium', timeZone: tz });
}

/** Column keys as words: "bounce_rate" → "Bounce rate". */
export const label = (key: string) => (key.charAt(0).toUpperCase() + key.slice(1)).replace(/_/g, ' ');
