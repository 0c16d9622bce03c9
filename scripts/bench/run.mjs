// Runs the benchmarks: `npm run bench` runs all, `npm run bench -- contacts ingest` the named ones.
// Each benchmark is scripts/bench/<name>.ts, bundled with esbuild (dependencies stay
// external) and run in its own Node process, so one benchmark's heap, JIT state and
// open databases never colour the next one's figures.
import { bundleNode } from '../bundle-node.mjs';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Adding a benchmark: create scripts/bench/<name>.ts and add its name here.
const BENCHMARKS = [
  'contacts',
  'ingest',
  'segments',
  'email',
  'campaigns',
  'reports',
  'dashboard',
  'webhooks',
  'pages',
  'edge',
  'edge-sim',
];

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDir = join(root, 'dist', 'bench');
// Every benchmark must stop by itself; this is the backstop if one does not.
// The reports benchmark generates 10M events and rebuilds its rollups first: it gets 75 minutes.
const timeoutFor = (name) => Number(process.env.BENCH_TIMEOUT_MS ?? (name === 'reports' ? 75 : 10) * 60_000);

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h') || args.includes('--list')) {
  console.log(`usage: npm run bench [-- <name>...]\nbenchmarks: ${BENCHMARKS.join(', ')}\nresults: dist/bench/<name>.json`);
  process.exit(0);
}
const unknown = args.filter((a) => !BENCHMARKS.includes(a));
if (unknown.length) {
  console.error(`unknown benchmark${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} (known: ${BENCHMARKS.join(', ')})`);
  process.exit(2);
}
const selected = args.length ? [...new Set(args)] : BENCHMARKS;

mkdirSync(outDir, { recursive: true });

async function bundle(name) {
  const outfile = join(outDir, `${name}.mjs`);
  await bundleNode(join(root, 'scripts', 'bench', `${name}.ts`), outfile);
  return outfile;
}

// The reports benchmark runs the product's rebuild, reports and reactions and budgets the
// process's RSS: it runs under the heap cap `npm start` gives the server, as they run there
// (without it V8 lets garbage pile up to gigabytes before collecting, since nothing asks it not to).
const nodeFlags = (name) => (name === 'reports' ? ['--max-old-space-size=384'] : []);

function runOne(name, file) {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, ['--enable-source-maps', '--expose-gc', ...nodeFlags(name), file], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, BENCH_NAME: name, BENCH_OUT_DIR: outDir },
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      console.error(`\n[bench] ${name}: no result after ${timeoutFor(name) / 1000}s, stopping it`);
      child.kill('SIGKILL');
    }, timeoutFor(name));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ name, ok: code === 0 && !timedOut, code, signal, timedOut });
    });
  });
}

const outcomes = [];
for (const name of selected) {
  console.log(`\n=== bench: ${name} ===`);
  const started = Date.now();
  const file = await bundle(name);
  const outcome = await runOne(name, file);
  outcomes.push({ ...outcome, seconds: (Date.now() - started) / 1000 });
}

console.log('\n=== bench summary ===');
for (const o of outcomes) {
  const how = o.ok ? 'ok' : o.timedOut ? 'TIMED OUT' : `FAILED (${o.signal ?? `exit ${o.code}`})`;
  console.log(`${o.name.padEnd(12)} ${how.padEnd(18)} ${o.seconds.toFixed(1)}s  → dist/bench/${o.name}.json`);
}
process.exit(outcomes.every((o) => o.ok) ? 0 : 1);
