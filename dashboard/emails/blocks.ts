// The block mode of the email editor: a list of simple blocks (heading, text, button, image,
// divider) that make the email's HTML. Each block's HTML sits between two comments that name it,
// so HTML written by the blocks reads back as blocks; anything else (HTML written by hand, a
// block edited in the HTML source) comes back as an "HTML" block holding it unchanged, so
// switching between the modes never loses content.
//
// Block text may hold Liquid ({{ contact.first_name }}, {% if %}…): Liquid runs on the source
// before any HTML parsing, so it is left exactly as written and only the text around it is escaped.

export type Block =
  | { type: 'heading'; text: string }
  | { type: 'text'; text: string }
  | { type: 'button'; label: string; url: string }
  | { type: 'image'; src: string; alt: string; url: string }
  | { type: 'divider' }
  | { type: 'html'; html: string };

export type BlockType = Block['type'];

export const BLOCK_LABELS: Record<BlockType, string> = {
  heading: 'Heading',
  text: 'Text',
  button: 'Button',
  image: 'Image',
  divider: 'Divider',
  html: 'HTML',
};

export function emptyBlock(type: BlockType): Block {
  switch (type) {
    case 'heading':
      return { type, text: '' };
    case 'text':
      return { type, text: '' };
    case 'button':
      return { type, label: '', url: 'https://' };
    case 'image':
      return { type, src: 'https://', alt: '', url: '' };
    case 'divider':
      return { type };
    case 'html':
      return { type, html: '' };
  }
}

const LIQUID = /\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g;

/** Escapes text for HTML but leaves Liquid as written (in an attribute, its double quotes become single ones). */
function esc(s: string, attr = false): string {
  let out = '';
  let last = 0;
  for (const m of s.matchAll(LIQUID)) {
    out += plain(s.slice(last, m.index), attr) + (attr ? m[0].replace(/"/g, "'") : m[0]);
    last = m.index! + m[0].length;
  }
  return out + plain(s.slice(last), attr);
}
const plain = (s: string, attr: boolean) => {
  const t = s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return attr ? t.replace(/"/g, '&quot;') : t;
};
const unesc = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');

const FONT = 'font-family:Helvetica,Arial,sans-serif';

function inner(b: Exclude<Block, { type: 'html' }>): string {
  switch (b.type) {
    case 'heading':
      return `<h1 style="${FONT};font-size:24px;line-height:1.3;margin:0 0 16px;color:#1a1a1a">${esc(b.text)}</h1>`;
    case 'text':
      return b.text
        .split(/\n\s*\n/)
        .map((p) => `<p style="${FONT};font-size:16px;line-height:1.5;margin:0 0 16px;color:#1a1a1a">${esc(p).replace(/\n/g, '<br>')}</p>`)
        .join('\n');
    case 'button':
      return `<p style="margin:24px 0"><a href="${esc(b.url, true)}" style="${FONT};display:inline-block;background:#1f4fd1;color:#ffffff;font-size:16px;font-weight:bold;text-decoration:none;padding:12px 24px;border-radius:4px">${esc(b.label)}</a></p>`;
    case 'image': {
      const img = `<img src="${esc(b.src, true)}" alt="${esc(b.alt, true)}" style="display:block;max-width:100%;height:auto;border:0">`;
      return `<p style="margin:0 0 16px">${b.url ? `<a href="${esc(b.url, true)}">${img}</a>` : img}</p>`;
    }
    case 'divider':
      return '<hr style="border:0;border-top:1px solid #dddddd;margin:24px 0">';
  }
}

const blockHtml = (b: Block) => (b.type === 'html' ? b.html : `<!-- block:${b.type} -->\n${inner(b)}\n<!-- /block -->`);

/** The HTML the blocks make. */
export function blocksToHtml(blocks: Block[]): string {
  return blocks
    .map(blockHtml)
    .filter((s) => s.trim() !== '')
    .join('\n');
}

/** Which block made line `line` (1-based) of blocksToHtml(blocks): where a server error about the HTML belongs. */
export function blockAtLine(blocks: Block[], line: number): number | null {
  let first = 1;
  for (const [i, b] of blocks.entries()) {
    const h = blockHtml(b);
    if (h.trim() === '') continue;
    const last = first + h.split('\n').length - 1;
    if (line >= first && line <= last) return i;
    first = last + 1;
  }
  return null;
}

/** A block read back from its HTML, or null when the HTML is not what that block makes. */
function readBlock(type: string, html: string): Block | null {
  let b: Block | null = null;
  let m: RegExpExecArray | null;
  if (type === 'heading' && (m = /^<h1 [^>]*>([\s\S]*)<\/h1>$/.exec(html))) b = { type, text: unesc(m[1]!) };
  else if (type === 'text') {
    const paras = [...html.matchAll(/<p [^>]*>([\s\S]*?)<\/p>/g)].map((p) => unesc(p[1]!.replace(/<br>/g, '\n')));
    if (paras.length) b = { type, text: paras.join('\n\n') };
  } else if (type === 'button' && (m = /^<p [^>]*><a href="([^"]*)" [^>]*>([\s\S]*)<\/a><\/p>$/.exec(html))) b = { type, url: unesc(m[1]!), label: unesc(m[2]!) };
  else if (type === 'image' && (m = /^<p [^>]*>(?:<a href="([^"]*)">)?<img src="([^"]*)" alt="([^"]*)" [^>]*>(?:<\/a>)?<\/p>$/.exec(html)))
    b = { type, url: m[1] ? unesc(m[1]) : '', src: unesc(m[2]!), alt: unesc(m[3]!) };
  else if (type === 'divider') b = { type };
  // Only what the block would make again is that block: anything edited by hand stays as HTML.
  return b && inner(b as Exclude<Block, { type: 'html' }>) === html ? b : null;
}

/** The blocks an HTML source reads as: its marked blocks, and the rest as HTML blocks, in order. */
export function htmlToBlocks(html: string): Block[] {
  const out: Block[] = [];
  const re = /<!-- block:(\w+) -->\n([\s\S]*?)\n<!-- \/block -->/g;
  let last = 0;
  const rest = (s: string) => {
    const t = s.replace(/^\n+|\n+$/g, '');
    if (t.trim()) out.push({ type: 'html', html: t });
  };
  for (const m of html.matchAll(re)) {
    rest(html.slice(last, m.index));
    out.push(readBlock(m[1]!, m[2]!) ?? { type: 'html', html: m[0] });
    last = m.index! + m[0].length;
  }
  rest(html.slice(last));
  return out;
}
