// Builds the Node server bundle (and, as later areas add them, the browser bundles).
import { build } from 'esbuild';

await build({
  entryPoints: { node: 'api/entry/node.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
