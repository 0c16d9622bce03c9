// The human API reference at /docs: one server-rendered HTML page built from the OpenAPI document.
// No scripts, no external assets (it must work offline and on Workers), and the CSP below forbids
// scripts outright, so a string that somehow escaped esc() still could not run.
import { code, constraints, deref, esc, exampleOf, makeSchemaCtx, pointer, prose, renderSchema, schemasOf, typeLabel, type Schema, type SchemaCtx } from './docs-schema';

export interface OpenApiDocLike {
  openapi?: string;
  info?: { title?: string; version?: string; description?: string };
  paths?: object;
  components?: object;
  security?: object[];
  tags?: { name: string; description?: string }[];
}

interface Operation {
  id: string;
  method: string;
  path: string;
  op: Schema;
  params: Schema[];
  secured: boolean;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'trace'];
const SPEC_URL = '/api/v1/openapi.json';
const isObj = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

// Keyed by the document object: a caller that keeps one document gets the page rendered once.
const cache = new WeakMap<object, string>();

export function renderDocsPage(doc: OpenApiDocLike): string {
  let html = cache.get(doc);
  if (html === undefined) {
    html = render(doc as Schema);
    cache.set(doc, html);
  }
  return html;
}

/** Mirrors requireApiKey in middleware.ts; the document has no field for scopes. */
function scopeFor(method: string, path: string): string {
  if (path.startsWith('/api/v1/api-keys')) return 'admin';
  return method === 'get' || method === 'head' ? 'read' : 'write';
}

function collect(cx: SchemaCtx, doc: Schema): Map<string, Operation[]> {
  const groups = new Map<string, Operation[]>();
  for (const t of Array.isArray(doc.tags) ? doc.tags : []) if (isObj(t) && typeof t.name === 'string') groups.set(t.name, []);
  const docSecurity = Array.isArray(doc.security) ? doc.security : [];
  for (const [path, rawItem] of Object.entries(isObj(doc.paths) ? doc.paths : {})) {
    const item = isObj(rawItem) ? rawItem : {};
    for (const method of METHODS) {
      const op = item[method];
      if (!isObj(op)) continue;
      // Operation parameters override path-level ones with the same name and location.
      const params = new Map<string, Schema>();
      for (const raw of [...(Array.isArray(item.parameters) ? item.parameters : []), ...(Array.isArray(op.parameters) ? op.parameters : [])]) {
        const p = isObj(raw) && typeof raw.$ref === 'string' ? pointer(doc, raw.$ref) : raw;
        if (isObj(p)) params.set(`${p.in}:${p.name}`, p);
      }
      const security = Array.isArray(op.security) ? op.security : docSecurity;
      const tag = Array.isArray(op.tags) && typeof op.tags[0] === 'string' ? op.tags[0] : 'Other';
      if (!groups.has(tag)) groups.set(tag, []);
      const id = cx.uniqueId(`op-${method}-${path}`);
      groups.get(tag)!.push({ id, method, path, op, params: [...params.values()], secured: security.some((s) => isObj(s)) });
    }
  }
  return groups;
}

const badge = (method: string) => `<span class="m m-${esc(method)}">${esc(method.toUpperCase())}</span>`;

function paramsTable(cx: SchemaCtx, params: Schema[]): string {
  if (!params.length) return '';
  const rows = params.map((p) => {
    const desc = prose(p.description ?? (isObj(p.schema) ? p.schema.description : undefined), true);
    const cons = constraints(p.schema).concat(p.deprecated === true ? ['<strong>deprecated</strong>'] : []);
    return (
      `<tr><th scope="row"><code>${esc(p.name)}</code></th><td>${esc(p.in)}</td><td>${typeLabel(cx, p.schema)}</td>` +
      `<td>${p.required === true ? '<span class="req">required</span>' : 'optional'}</td><td>${desc}</td><td>${cons.join('<br>')}</td></tr>`
    );
  });
  return (
    '<h4>Parameters</h4><div class="scroll"><table><thead><tr><th scope="col">Name</th><th scope="col">In</th><th scope="col">Type</th>' +
    `<th scope="col">Required</th><th scope="col">Description</th><th scope="col">Constraints</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`
  );
}

function requestBody(cx: SchemaCtx, doc: Schema, raw: unknown): string {
  const rb = isObj(raw) && typeof raw.$ref === 'string' ? pointer(doc, raw.$ref) : raw;
  if (!isObj(rb)) return '';
  const parts = Object.entries(isObj(rb.content) ? rb.content : {}).map(([ct, media]) => {
    const schema = isObj(media) ? media.schema : undefined;
    const target = deref(cx, schema).s ?? {};
    const cons = constraints(target).join(' · ');
    return (
      `<p class="ct">${code(ct)} <span class="type">${typeLabel(cx, schema)}</span>${cons ? ` <span class="cons">${cons}</span>` : ''}</p>` +
      prose(target.description) +
      renderSchema(cx, schema, true)
    );
  });
  const req = rb.required === true ? ' <span class="req">required</span>' : ' <span class="opt">optional</span>';
  return `<h4>Request body${req}</h4>${prose(rb.description)}${parts.join('')}`;
}

function responsesTable(cx: SchemaCtx, doc: Schema, responses: unknown): string {
  if (!isObj(responses)) return '';
  const rows = Object.entries(responses).map(([status, raw]) => {
    const r = isObj(raw) && typeof raw.$ref === 'string' ? pointer(doc, raw.$ref) : raw;
    const res = isObj(r) ? r : {};
    const bodies = Object.entries(isObj(res.content) ? res.content : {}).map(([ct, media]) => {
      const schema = isObj(media) ? media.schema : undefined;
      const label = `${code(ct)} <span class="type">${typeLabel(cx, schema)}</span>`;
      // Named schemas link to the Schemas section; anonymous ones unfold in place.
      const fields = isObj(schema) && !schema.$ref ? renderSchema(cx, schema, false) : '';
      return fields ? `<details><summary>${label}</summary>${fields}</details>` : `<div>${label}</div>`;
    });
    const cls = /^[1-5]/.test(status) ? `s${status[0]}` : 'sx';
    return `<tr><th scope="row"><span class="st ${cls}">${esc(status)}</span></th><td>${prose(res.description, true)}</td><td>${bodies.join('')}</td></tr>`;
  });
  return (
    '<h4>Responses</h4><div class="scroll"><table class="resp"><thead><tr><th scope="col">Status</th><th scope="col">Description</th>' +
    `<th scope="col">Body</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`
  );
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function curl(cx: SchemaCtx, doc: Schema, o: Operation): string {
  const sample = (p: Schema | undefined, name: string) => {
    const ex = p && (p.example ?? exampleOf(cx, p.schema));
    return ex === undefined || typeof ex === 'object' ? name.toUpperCase() : String(ex);
  };
  const find = (where: string, name: string) => o.params.find((p) => p.in === where && p.name === name);
  let url = o.path.replace(/\{([^}]*)\}/g, (_, name: string) => encodeURIComponent(sample(find('path', name), name)));
  const query = o.params.filter((p) => p.in === 'query' && p.required === true);
  if (query.length) url += `?${query.map((p) => `${encodeURIComponent(String(p.name))}=${encodeURIComponent(sample(p, String(p.name)))}`).join('&')}`;
  // The URL sits in double quotes so $LEADLINE_URL expands; anything shell-special from the document is percent-encoded.
  url = url.replace(/[^A-Za-z0-9\-._~/?=&%:@+,]/g, (ch) => encodeURIComponent(ch).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`));
  const lines = [`curl -X ${o.method.toUpperCase()} "$LEADLINE_URL${url}"`];
  if (o.secured) lines.push('-H "Authorization: Bearer $LEADLINE_KEY"');
  const rb = isObj(o.op.requestBody) && typeof o.op.requestBody.$ref === 'string' ? pointer(doc, o.op.requestBody.$ref) : o.op.requestBody;
  const first = isObj(rb) && isObj(rb.content) ? Object.entries(rb.content)[0] : undefined;
  if (first) {
    const [rawCt, media] = first;
    const ct = /^[\w.+-]+\/[\w.+-]+$/.test(rawCt) ? rawCt : 'application/octet-stream';
    lines.push(`-H "Content-Type: ${ct}"`);
    const ex = /json/.test(ct) ? exampleOf(cx, isObj(media) ? media.schema : undefined) : undefined;
    if (ex !== undefined) lines.push(`-d ${shellQuote(JSON.stringify(ex, null, 2))}`);
    else lines.push(`--data-binary @body.${ct.includes('csv') ? 'csv' : ct.includes('json') ? 'json' : 'bin'}`);
  }
  return `<h4>Example</h4><pre class="curl"><code>${esc(lines.join(' \\\n  '))}</code></pre>`;
}

function operation(cx: SchemaCtx, doc: Schema, o: Operation): string {
  const { op } = o;
  const scope = o.secured
    ? `<p class="scope">Needs an API key with the ${code(scopeFor(o.method, o.path))} scope (or higher).</p>`
    : '<p class="scope">No API key needed.</p>';
  return (
    `<section class="op" id="${o.id}" aria-labelledby="${o.id}-h">` +
    `<h3 id="${o.id}-h">${badge(o.method)} <code class="path">${esc(o.path)}</code>${op.deprecated === true ? ' <span class="dep">deprecated</span>' : ''}</h3>` +
    (op.summary ? `<p class="summary">${prose(op.summary, true)}</p>` : '') +
    scope +
    prose(op.description) +
    paramsTable(cx, o.params) +
    requestBody(cx, doc, op.requestBody) +
    responsesTable(cx, doc, op.responses) +
    curl(cx, doc, o) +
    '</section>'
  );
}

function authSection(doc: Schema): string {
  const schemes = isObj(doc.components) && isObj(doc.components.securitySchemes) ? doc.components.securitySchemes : {};
  const items = Object.entries(schemes).map(([name, s]) => {
    if (!isObj(s)) return '';
    const how =
      s.type === 'http' && String(s.scheme).toLowerCase() === 'bearer'
        ? `send ${code('Authorization: Bearer <API key>')} with every request`
        : s.type === 'apiKey'
          ? `send the key in the ${esc(s.in)} ${code(s.name)}`
          : `${esc(s.type)} authentication`;
    return `<li><strong>${esc(name)}</strong>: ${how}.${s.description ? ` ${prose(s.description, true)}` : ''}</li>`;
  });
  return (
    '<section id="auth" aria-labelledby="auth-h"><h2 id="auth-h">Authentication</h2>' +
    (items.length ? `<ul>${items.join('')}</ul>` : '<p>No security schemes are declared.</p>') +
    '<p>Each operation names the scope its key needs: <code>read</code> for reads, <code>write</code> for changes, ' +
    '<code>admin</code> for managing API keys; a higher scope includes the lower ones.</p>' +
    '<p>The examples read the server address and key from the shell:</p>' +
    `<pre><code>${esc("export LEADLINE_URL=http://localhost:8787\nexport LEADLINE_KEY='ll_…'")}</code></pre></section>`
  );
}

function schemasSection(cx: SchemaCtx, doc: Schema): string {
  const entries = Object.entries(schemasOf(doc));
  if (!entries.length) return '';
  const items = entries.map(([name, s]) => {
    const id = cx.ids.get(name)!;
    const cons = constraints(s).join(' · ');
    return (
      `<section class="schema" id="${id}" aria-labelledby="${id}-h"><h3 id="${id}-h">${esc(name)}</h3>` +
      `<p><span class="type">${typeLabel(cx, { ...s, $ref: undefined })}</span>${cons ? ` <span class="cons">${cons}</span>` : ''}</p>` +
      prose(isObj(s) ? s.description : '') +
      renderSchema(cx, { $ref: `#/components/schemas/${name.replace(/~/g, '~0').replace(/\//g, '~1')}` }, false) +
      '</section>'
    );
  });
  return `<section id="schemas" aria-labelledby="schemas-h"><h2 id="schemas-h">Schemas</h2>${items.join('')}</section>`;
}

function render(doc: Schema): string {
  const cx = makeSchemaCtx(doc);
  const info = isObj(doc.info) ? doc.info : {};
  const title = typeof info.title === 'string' && info.title ? info.title : 'API reference';
  const groups = [...collect(cx, doc)].filter(([, ops]) => ops.length);
  const tagDesc = new Map<string, unknown>((Array.isArray(doc.tags) ? doc.tags : []).filter(isObj).map((t) => [t.name, t.description]));
  const tagIds = new Map(groups.map(([tag]) => [tag, cx.uniqueId(`tag-${tag}`)]));

  const nav = groups
    .map(([tag, ops]) => {
      const links = ops.map((o) => `<li><a href="#${o.id}">${badge(o.method)} <span>${esc(o.op.summary ?? o.path)}</span></a></li>`);
      return `<li><a class="navtag" href="#${tagIds.get(tag)}">${esc(tag)}</a><ul>${links.join('')}</ul></li>`;
    })
    .join('');
  const schemaLinks = [...cx.ids].map(([name, id]) => `<li><a href="#${id}">${esc(name)}</a></li>`).join('');
  const sections = groups
    .map(([tag, ops]) => {
      const id = tagIds.get(tag)!;
      return `<section class="tag" id="${id}" aria-labelledby="${id}-h"><h2 id="${id}-h">${esc(tag)}</h2>${prose(tagDesc.get(tag))}${ops.map((o) => operation(cx, doc, o)).join('')}</section>`;
    })
    .join('');

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
<title>${esc(title)} reference</title>
<style>${CSS}</style></head>
<body><a class="skip" href="#main">Skip to content</a>
<div class="layout">
<nav aria-label="API reference"><p class="brand"><a href="#top">${esc(title)}</a></p>
<ul class="toc"><li><a class="navtag" href="#auth">Authentication</a></li>${nav}
<li><details><summary class="navtag">Schemas</summary><ul>${schemaLinks}</ul></details></li></ul>
<p class="spec"><a href="${SPEC_URL}">OpenAPI document (JSON)</a></p></nav>
<main id="main"><header id="top"><h1>${esc(title)}</h1>
<p class="ver">Version ${code(info.version ?? '?')} · OpenAPI ${code(doc.openapi ?? '?')}</p>${prose(info.description)}</header>
${authSection(doc)}${sections}${schemasSection(cx, doc)}</main></div></body></html>`;
}

// Colours keep at least 4.5:1 contrast in both schemes; badges pair dark text with light fills.
const CSS = `
:root{--bg:#fff;--fg:#1f2328;--muted:#57606a;--line:#d0d7de;--soft:#f6f8fa;--code:#eff1f3;--link:#0a58ca;--side:#f6f8fa}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9da7b3;--line:#30363d;--soft:#161b22;--code:#262c36;--link:#6cb6ff;--side:#010409}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
a{color:var(--link)}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88em}
code{background:var(--code);padding:.1em .3em;border-radius:4px}
pre{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:.8em 1em;overflow-x:auto}
pre code{background:none;padding:0}
.skip{position:absolute;left:-9999px}.skip:focus{left:1em;top:1em;background:var(--bg);padding:.5em;z-index:2}
.layout{display:grid;grid-template-columns:290px minmax(0,1fr)}
nav{position:sticky;top:0;height:100vh;overflow-y:auto;background:var(--side);border-right:1px solid var(--line);padding:1em .8em;font-size:14px}
nav ul{list-style:none;margin:0;padding:0}nav ul ul{margin:.2em 0 .8em}
nav a{text-decoration:none;color:var(--fg);display:block;padding:.15em .3em;border-radius:4px}
nav a:hover,nav a:focus{background:var(--code)}
nav li li a{display:flex;gap:.5em;align-items:baseline}
.brand{font-weight:700;font-size:17px;margin:0 0 1em}.navtag{font-weight:600;cursor:pointer}
nav summary{padding:.15em .3em}.spec{margin-top:1.5em;font-size:13px}
main{padding:1.5em 2.5em 4em;max-width:1040px}
h1{margin:.2em 0}h2{border-bottom:1px solid var(--line);padding-bottom:.3em;margin-top:2.2em}
h3{font-size:1.1em;display:flex;flex-wrap:wrap;gap:.6em;align-items:center;margin:0}
h4{margin:1.3em 0 .4em;font-size:.95em}
.ver{color:var(--muted)}
.op,.schema{border:1px solid var(--line);border-radius:8px;padding:1em 1.2em;margin:1.2em 0;scroll-margin-top:1em}
.path{font-size:1em;background:none;padding:0;word-break:break-all}
.summary{font-size:1.05em;font-weight:600;margin:.5em 0 .2em}.scope{color:var(--muted);margin:.2em 0}
.m{display:inline-block;min-width:4.2em;text-align:center;font:700 11px/1.9 ui-monospace,Menlo,Consolas,monospace;border-radius:4px;padding:0 .4em;color:#111}
.m-get{background:#cfe2ff}.m-post{background:#c6efce}.m-put,.m-patch{background:#ffe8a3}.m-delete{background:#ffd0d0}.m-head,.m-options,.m-trace{background:#e2e3e5}
.st{font:700 12px ui-monospace,Menlo,Consolas,monospace;padding:.1em .45em;border-radius:4px;color:#111;background:#e2e3e5}
.s2{background:#c6efce}.s3{background:#cfe2ff}.s4{background:#ffe8a3}.s5{background:#ffd0d0}
.req{color:#b42318;font-size:.8em;font-weight:600;text-transform:uppercase;letter-spacing:.03em}
@media (prefers-color-scheme:dark){.req{color:#ff8b80}}
.opt,.cons,.fmt,.note{color:var(--muted);font-size:.9em}.dep{color:#b42318}
.type{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85em;color:var(--muted)}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{border-bottom:1px solid var(--line);padding:.4em .6em;text-align:left;vertical-align:top}
thead th{background:var(--soft);font-weight:600}
.resp th[scope=row]{width:5em}.resp td:last-child{width:40%}
.fields{list-style:none;padding-left:1.1em;border-left:2px solid var(--line);margin:.4em 0}
.fields li{margin:.35em 0}.fname{font-weight:600}.desc{color:var(--fg);font-size:.92em}
details summary{cursor:pointer}.ct{margin:.3em 0}
@media (max-width:820px){.layout{display:block}nav{position:static;height:auto;border-right:0;border-bottom:1px solid var(--line)}main{padding:1em}}
`;
