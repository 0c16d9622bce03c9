// Styles for every widget, scoped by each widget's shadow root. One constructed stylesheet is
// shared by all roots; CSP's style-src does not govern constructed sheets. Where they are
// missing, a <style> carrying w.js's nonce passes `style-src 'nonce-…'`.
// Fonts and text colour are inherited from the host page on purpose: forms look like the site.
const CSS = `
:host{display:block}
*{box-sizing:border-box}
.ll-form{display:grid;gap:12px;max-width:32rem}
.fld{display:grid;gap:4px;border:0;margin:0;padding:0;min-width:0}
label,legend{font-weight:600}
.opt{font-weight:400;display:flex;gap:8px;align-items:flex-start}
input,select,textarea{font:inherit;color:inherit;padding:8px 10px;border:1px solid #8a8a8a;border-radius:6px;background:#fff;width:100%}
.opt input{width:auto;margin-top:3px}
[aria-invalid=true]{border-color:#b00020;outline-color:#b00020}
.err{color:#b00020;margin:0;font-size:.9em}
.help{margin:0;font-size:.9em;opacity:.8}
.hp{position:absolute;left:-9999px;width:1px;height:1px;overflow:hidden}
.btn{display:inline-block;font:inherit;font-weight:600;text-decoration:none;cursor:pointer;border:0;border-radius:6px;padding:10px 18px;background:var(--ll-button,#2563eb);color:#fff;justify-self:start}
.btn[disabled]{opacity:.6;cursor:wait}
:focus-visible{outline:3px solid #1f5fd1;outline-offset:2px}
.box{position:fixed;z-index:2147483646;background:var(--ll-background,#fff);color:var(--ll-text,#1f2937);padding:20px;box-shadow:0 8px 32px #0004;overflow:auto;max-height:100vh}
.box h2{margin:0 28px 8px 0;font-size:1.25em}
.body{white-space:pre-line;margin:0 0 12px}
.x{position:absolute;top:6px;right:8px;background:none;border:0;font-size:24px;line-height:1;cursor:pointer;color:inherit;padding:4px 8px}
.shade{position:fixed;inset:0;z-index:2147483645;background:#0008}
.modal{top:50%;left:50%;transform:translate(-50%,-50%);width:min(92vw,32rem);border-radius:10px}
.full_screen{inset:0;display:grid;place-content:center}
.bar{left:0;right:0;top:0;padding:12px 48px 12px 20px;display:flex;flex-wrap:wrap;gap:12px;align-items:center}
.bar h2,.bar .body{margin:0}
.bar.bottom{top:auto;bottom:0}
.bar.flow{position:absolute}
.slide_in{bottom:16px;right:16px;width:min(92vw,22rem);border-radius:10px}
.slide_in.left{right:auto;left:16px}
.slide_in.top{bottom:auto;top:16px}
@media (prefers-reduced-motion:no-preference){
.box{animation:ll-in .3s ease-out}
.modal{animation-name:ll-pop}
}
@keyframes ll-in{from{opacity:0;translate:0 16px}}
@keyframes ll-pop{from{opacity:0;scale:.94}}
`;

let sheet: CSSStyleSheet | undefined;

/** A shadow root on host with the widget styles in it. */
export function mount(host: Element, nonce?: string): ShadowRoot {
  const root = host.attachShadow({ mode: 'open' });
  try {
    if (!sheet) (sheet = new CSSStyleSheet()).replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } catch {
    const s = document.createElement('style');
    if (nonce) s.nonce = nonce;
    s.textContent = CSS;
    root.append(s);
  }
  return root;
}
