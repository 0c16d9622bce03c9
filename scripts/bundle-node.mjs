// The one way this project bundles TypeScript for Node: the server, and the
// benchmarks and their helper processes.
import { build } from 'esbuild';

export function bundleNode(entryPoint, outfile) {
  return build({
    entryPoints: [entryPoint],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  });
}
