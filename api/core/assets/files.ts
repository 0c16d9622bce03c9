import { ValidationError } from '../errors';

export const MAX_ASSET_BYTES = 25 * 1024 * 1024;

const CONTROL = /[\u0000-\u001F\u007F-\u009F]/g;

/**
 * The name a file is stored and served under: the last path segment only
 * (browsers may send "C:\fakepath\x.pdf"), without control characters,
 * 1–200 characters, not "." or "..".
 */
export function cleanFilename(raw: string, field = 'filename'): string {
  const base = raw.split(/[\\/]/).pop() ?? '';
  const name = base.replace(CONTROL, '').normalize('NFC').trim();
  if (!name || name === '.' || name === '..') throw new ValidationError([{ field, message: 'must be a file name' }]);
  if (name.length > 200) throw new ValidationError([{ field, message: 'must be at most 200 characters' }]);
  return name;
}

const TOKEN = "[a-z0-9!#$&^_.+-]{1,63}";
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}$`);

/**
 * The declared type, checked and normalised: "type/subtype" in lower case,
 * keeping a charset parameter when there is one. Empty means unknown bytes.
 */
export function cleanContentType(raw: string | null | undefined, field = 'content_type'): string {
  const value = (raw ?? '').trim();
  if (!value) return 'application/octet-stream';
  const [essence = '', ...params] = value.split(';');
  const type = essence.trim().toLowerCase();
  if (!MEDIA_TYPE.test(type)) throw new ValidationError([{ field, message: 'must be a media type like application/pdf' }]);
  for (const p of params) {
    const m = /^\s*charset\s*=\s*"?([A-Za-z0-9_.:-]{1,40})"?\s*$/i.exec(p);
    if (m) return `${type}; charset=${m[1]!.toLowerCase()}`;
  }
  return type;
}

// Types a browser shows without running anything of the file's own. Everything
// else (HTML, SVG, XML, scripts, unknown types) is served as an attachment.
const INLINE = new Set([
  'application/pdf',
  'text/plain',
  'text/csv',
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
  'audio/mpeg',
  'audio/ogg',
  'audio/wav',
  'audio/webm',
  'video/mp4',
  'video/webm',
  'video/ogg',
]);

export function servedInline(contentType: string): boolean {
  return INLINE.has(contentType.split(';')[0]!.trim());
}

// RFC 5987 / 6266: an ASCII fallback and the exact name in UTF-8.
export function contentDisposition(kind: 'inline' | 'attachment', filename: string): string {
  const ascii =
    filename
      .normalize('NFKD')
      .replace(/[^\x20-\x7e]/g, '')
      .replace(/["\\%;]/g, '_')
      .trim() || 'download';
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

export const SLUG_RE = /^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$/;

export function slugify(s: string): string {
  const slug = s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return slug || 'asset';
}
