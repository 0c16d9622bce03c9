const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe inside HTML elements and quoted attributes. */
export const escapeHtml = (v: unknown): string => String(v ?? '').replace(/[&<>"']/g, (ch) => ESC[ch]!);
