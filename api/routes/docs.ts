// Placeholder replaced by the docs viewer.
export function renderDocsPage(doc: unknown): string {
  return `<!doctype html><title>Leadline API</title><pre>${JSON.stringify(doc).replace(/</g, '&lt;')}</pre>`;
}
