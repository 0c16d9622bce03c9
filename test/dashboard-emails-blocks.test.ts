// The email editor's block mode as a model: blocks make HTML; that HTML reads back as the same
// blocks; HTML written or edited by hand comes back unchanged as HTML blocks, so switching between
// blocks and HTML source never loses content. Liquid in block text is left exactly as written.
import { describe, expect, it } from 'vitest';
import { blockAtLine, blocksToHtml, htmlToBlocks, type Block } from '../dashboard/emails/blocks';
import { BUILT_IN, customVariable, liquidTag } from '../dashboard/emails/liquid';

const every: Block[] = [
  { type: 'heading', text: 'Hi {{ contact.first_name | default: "there" }} & <friends>' },
  { type: 'text', text: 'One.\nStill one.\n\nTwo {% if contact.points > 10 %}VIP{% endif %}.' },
  { type: 'button', label: 'Go', url: 'https://example.com/?a=1&b="2"' },
  { type: 'image', src: 'https://cdn.example.com/a.png', alt: 'A "quoted" logo', url: 'https://example.com/' },
  { type: 'image', src: 'https://cdn.example.com/b.png', alt: '', url: '' },
  { type: 'divider' },
  { type: 'html', html: '<table><tr><td>{{ company.name }}</td></tr></table>' },
];

describe('email blocks', () => {
  it('make HTML that reads back as the same blocks, and the same HTML again', () => {
    const html = blocksToHtml(every);
    expect(htmlToBlocks(html)).toEqual(every);
    expect(blocksToHtml(htmlToBlocks(html))).toBe(html);
  });

  it('escape text but leave Liquid as written (in attributes, with single quotes)', () => {
    const html = blocksToHtml(every);
    expect(html).toContain('Hi {{ contact.first_name | default: "there" }} &amp; &lt;friends&gt;');
    expect(html).toContain('<br>Still one.');
    expect(html).toContain('{% if contact.points > 10 %}VIP{% endif %}');
    expect(html).toContain('href="https://example.com/?a=1&amp;b=&quot;2&quot;"');
    const link = blocksToHtml([{ type: 'button', label: 'Prefs', url: '{{ preferences_url | default: "x" }}' }]);
    expect(link).toContain(`href="{{ preferences_url | default: 'x' }}"`);
  });

  it('keep hand-written HTML, and a block edited by hand, as HTML blocks', () => {
    const hand = '<p>Before</p>';
    const edited = '<!-- block:heading -->\n<h1 class="mine">Changed</h1>\n<!-- /block -->';
    const html = `${hand}\n${edited}\n${blocksToHtml([{ type: 'divider' }])}\n<p>After</p>`;
    const blocks = htmlToBlocks(html);
    expect(blocks.map((b) => b.type)).toEqual(['html', 'html', 'divider', 'html']);
    expect(blocks[1]).toEqual({ type: 'html', html: edited });
    expect(blocksToHtml(blocks)).toBe(html);
  });

  it('read any HTML without losing a character', () => {
    const html = '<style>h1{color:red}</style>\n<h1>Hi</h1>\n\n<p>{{ x }}</p>';
    expect(blocksToHtml(htmlToBlocks(html))).toBe(html);
    expect(htmlToBlocks('')).toEqual([]);
  });
});

describe('an error at a line of the HTML', () => {
  it('belongs to the block that made that line', () => {
    const blocks: Block[] = [{ type: 'heading', text: 'A' }, { type: 'html', html: '  ' }, { type: 'text', text: 'B\n\nC' }, { type: 'button', label: 'D', url: 'https://d.example/' }];
    const lines = blocksToHtml(blocks).split('\n');
    expect(lines).toHaveLength(3 + 4 + 3);
    expect([1, 3, 4, 7, 8, 10].map((n) => blockAtLine(blocks, n))).toEqual([0, 0, 2, 2, 3, 3]);
    expect(blockAtLine(blocks, 11)).toBeNull();
  });
});

describe('personalisation tags', () => {
  it('name the variables the server gives templates, with a fallback where it makes sense', () => {
    const first = BUILT_IN.find((v) => v.path === 'contact.first_name')!;
    expect(liquidTag(first, '')).toBe('{{ contact.first_name }}');
    expect(liquidTag(first, 'there "friend"')).toBe(`{{ contact.first_name | default: "there 'friend'" }}`);
    expect(liquidTag(BUILT_IN.find((v) => v.path === 'contact.tags')!, '')).toBe('{{ contact.tags | join: ", " }}');
    expect(liquidTag(BUILT_IN.find((v) => v.path === 'unsubscribe_url')!, 'ignored')).toBe('{{ unsubscribe_url }}');
    expect(customVariable('plan', 'Plan').path).toBe('contact.fields.plan');
    expect(customVariable('my-field', 'Mine').path).toBe('contact.fields["my-field"]');
  });
});
