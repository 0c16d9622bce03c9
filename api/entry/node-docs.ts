import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DOCS_UI_FILE } from '../generated/docs-ui';
import type { DocsUi } from '../routes/docs';

/**
 * The /docs renderer's bytes on Node: the build's files (dist/public/docs and its brotli and gzip
 * in dist/precompressed/docs), read on the first request for them and kept. Without them (no
 * build yet) the route answers 404 and the next request tries again.
 */
export function nodeDocsUi(distDir: string): DocsUi {
  let loading: Promise<Awaited<ReturnType<DocsUi>>> | undefined;
  const etag = `"${DOCS_UI_FILE.replace(/^scalar\.|\.js$/g, '')}`;
  const load = async () => {
    const [identity, br, gzip] = await Promise.all([
      readFile(join(distDir, 'public/docs', DOCS_UI_FILE)),
      readFile(join(distDir, 'precompressed/docs', `${DOCS_UI_FILE}.br`)),
      readFile(join(distDir, 'precompressed/docs', `${DOCS_UI_FILE}.gz`)),
    ]);
    const bytes = (b: Buffer) => new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)) as Uint8Array<ArrayBuffer>;
    return {
      identity: { body: bytes(identity), etag: `${etag}"` },
      br: { body: bytes(br), etag: `${etag}-br"` },
      gzip: { body: bytes(gzip), etag: `${etag}-gz"` },
    };
  };
  return async () => {
    loading ??= load().catch(() => {
      loading = undefined;
      return null;
    });
    return loading;
  };
}
