// `npm run deploy`: from a Cloudflare account and a Turso database to a running Worker.
//
//   npm run deploy                   check, create what wrangler.toml needs, build, deploy
//   npm run deploy -- --migrate      … then apply the migrations now (else the first request does)
//   npm run deploy -- --dry-run      print the plan and bundle with `wrangler deploy --dry-run`
//                                    (no account, no network: nothing is created or uploaded)
//   npm run deploy -- --no-build     skip `node scripts/build.mjs` (dist/ is already built)
//
// The steps, in order; each stops the deployment with what to do when it fails:
//   1. Cloudflare: `wrangler whoami` (logged in with `wrangler login`, or CLOUDFLARE_API_TOKEN set).
//   2. Secrets: `wrangler secret list`. DATABASE_URL and DATABASE_AUTH_TOKEN must be there; one that is
//      missing but set in this shell's environment is put with `wrangler secret put NAME`, its value
//      written to wrangler's stdin. A secret's value is never part of a command line (`ps` shows those).
//   3. Every queue wrangler.toml names (producers, consumers, dead-letter queues; dead-letter queues
//      first) and every R2 bucket: `wrangler queues create` / `wrangler r2 bucket create`. One that
//      already exists is fine, so running this again is safe.
//   4. `node scripts/build.mjs` (the widgets, the dashboard and dist/public, the static assets).
//   5. `wrangler deploy`.
//   6. With --migrate: `npm run migrate -- --remote` with DATABASE_URL and DATABASE_AUTH_TOKEN from
//      this shell's environment (Cloudflare never gives a secret back).
//
// WRANGLER names the wrangler to run (a path; a .js/.mjs file runs with this Node); by default the
// project's own (node_modules/wrangler). Tests point it at a stand-in that records its calls.
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `usage: npm run deploy [-- --dry-run] [-- --migrate] [-- --no-build]
  --dry-run   print the plan, build, and bundle with \`wrangler deploy --dry-run\` (nothing is uploaded)
  --migrate   after deploying, apply the migrations to DATABASE_URL (needs it and DATABASE_AUTH_TOKEN
              in this shell's environment); without it the Worker applies them on its first request
  --no-build  skip \`node scripts/build.mjs\``;

/** The Worker's secrets: which it cannot start without, and what each is for. */
const SECRETS = [
  { name: 'DATABASE_URL', required: true, what: 'libsql://<db>-<org>.turso.io (`turso db show --url leadline`)' },
  { name: 'DATABASE_AUTH_TOKEN', required: true, what: 'a token of that database (`turso db tokens create leadline`)' },
  { name: 'ADMIN_API_KEY', required: false, what: 'the first API key (24+ characters): without it the API has no key until you make one in the dashboard' },
  { name: 'SECRET', required: false, what: 'HMAC signing secret (16+ characters) for links in mail and page previews' },
  { name: 'RESEND_API_KEY', required: false, what: 'to send email through Resend (then set PUBLIC_URL in wrangler.toml)' },
  { name: 'RESEND_WEBHOOK_SECRET', required: false, what: "Resend webhook's signing secret (whsec_…)" },
];

// Cloudflare's answers when the thing is there already (queues: 11009 "name already taken";
// R2: 10004 "already exists, and you own it").
const ALREADY = /already (exists|taken|owned)|\[code: (11009|10004)\]/i;
const NOT_LOGGED_IN = /not (authenticated|logged in)|wrangler login|Authentication error|\[code: (10000|9106|6003)\]/i;
const NO_WORKER = /\[code: 10007\]|not found|does not exist|doesn't seem to be a Worker/i;

class Stop extends Error {}

const say = (line = '') => console.log(line);
const step = (n, text) => say(`\n[${n}] ${text}`);

function wranglerCommand() {
  const w = process.env.WRANGLER?.trim();
  if (!w) return [process.execPath, join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js')];
  return /\.(c|m)?js$/.test(w) ? [process.execPath, resolve(w)] : [resolve(w)];
}

/**
 * Runs a command, echoing its output as it comes (unless quiet) and keeping it. `input` is written
 * to its stdin, then stdin is closed. Resolves with the exit code and the output; never rejects.
 */
function run(cmd, args, { input, quiet = false, env = {} } = {}) {
  return new Promise((done) => {
    const child = spawn(cmd, args, {
      cwd: root,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', WRANGLER_HIDE_BANNER: 'true', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    const keep = (sink) => (d) => {
      out += d;
      if (!quiet) sink.write(d);
    };
    child.stdout.on('data', keep(process.stdout));
    child.stderr.on('data', keep(process.stderr));
    child.on('error', (e) => done({ code: 127, out: `${out}${e.message}` }));
    child.on('close', (code) => done({ code: code ?? 1, out }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

const wrangler = (args, options) => {
  const [cmd, ...pre] = wranglerCommand();
  return run(cmd, [...pre, ...args], options);
};

/** Queues and R2 buckets wrangler.toml declares, as wrangler itself reads the file. */
async function declared() {
  const { unstable_readConfig } = await import('wrangler');
  const config = unstable_readConfig({ config: join(root, 'wrangler.toml') });
  const dlqs = new Set((config.queues.consumers ?? []).map((c) => c.dead_letter_queue).filter(Boolean));
  const all = new Set([...(config.queues.producers ?? []).map((p) => p.queue), ...(config.queues.consumers ?? []).map((c) => c.queue), ...dlqs]);
  // A consumer's dead-letter queue must exist before the consumer is attached.
  const queues = [...[...all].filter((q) => dlqs.has(q)), ...[...all].filter((q) => !dlqs.has(q))];
  const buckets = [...new Set((config.r2_buckets ?? []).map((b) => b.bucket_name).filter(Boolean))];
  return { name: config.name, queues, buckets, vars: config.vars ?? {} };
}

/** Secret names already on the Worker, or null when the Worker does not exist yet. */
async function secretNames() {
  const r = await wrangler(['secret', 'list', '--format', 'json'], { quiet: true });
  if (r.code !== 0) {
    if (NO_WORKER.test(r.out)) return null;
    throw new Stop(`could not list the Worker's secrets (\`wrangler secret list\` exited ${r.code}):\n${r.out.trim()}`);
  }
  const json = r.out.slice(r.out.indexOf('['), r.out.lastIndexOf(']') + 1);
  try {
    return new Set(JSON.parse(json).map((s) => s.name));
  } catch {
    throw new Stop(`could not read \`wrangler secret list\`'s answer:\n${r.out.trim()}`);
  }
}

/** A value from this shell's environment that may be put as the secret `name`, or why not. */
function fromEnv(name) {
  const v = process.env[name]?.trim();
  if (!v) return {};
  if (name === 'DATABASE_URL' && !/^(libsql|https):\/\//.test(v)) return { unusable: 'DATABASE_URL in this shell is not a libsql:// or https:// URL (a local file?): not put' };
  return { value: v };
}

async function ensureCreated(kind, args, name, dryRun) {
  if (dryRun) return say(`    would run: wrangler ${args.join(' ')}`);
  const r = await wrangler(args, { quiet: true });
  if (r.code === 0) return say(`    ${kind} ${name}: created`);
  if (ALREADY.test(r.out)) return say(`    ${kind} ${name}: exists already`);
  throw new Stop(`could not create the ${kind} ${name} (\`wrangler ${args.join(' ')}\` exited ${r.code}):\n${r.out.trim()}`);
}

async function main(args) {
  if (args.includes('--help') || args.includes('-h')) return say(USAGE), 0;
  const known = ['--dry-run', '--migrate', '--no-build'];
  const unknown = args.filter((a) => !known.includes(a));
  if (unknown.length) {
    console.error(`deploy: unknown argument${unknown.length > 1 ? 's' : ''}: ${unknown.join(' ')}\n\n${USAGE}`);
    return 2;
  }
  const dryRun = args.includes('--dry-run');
  const migrate = args.includes('--migrate');
  const build = !args.includes('--no-build');
  if (migrate && dryRun) {
    console.error('deploy: --migrate and --dry-run do not go together (a dry run changes nothing)');
    return 2;
  }
  if (migrate && !(fromEnv('DATABASE_URL').value && process.env.DATABASE_AUTH_TOKEN?.trim())) {
    console.error('deploy: --migrate needs DATABASE_URL (libsql://…) and DATABASE_AUTH_TOKEN in this shell\'s environment:\n' +
      '  DATABASE_URL=$(turso db show --url leadline) DATABASE_AUTH_TOKEN=$(turso db tokens create leadline) npm run deploy -- --migrate');
    return 2;
  }
  const plan = await declared();
  say(`${dryRun ? 'Dry run: the plan for' : 'Deploying'} the Worker "${plan.name}" (wrangler.toml)${dryRun ? '; nothing is created or uploaded' : ''}.`);

  step(1, 'Cloudflare account');
  if (dryRun) say('    would run: wrangler whoami');
  else {
    const r = await wrangler(['whoami'], { quiet: true });
    if (r.code !== 0 || NOT_LOGGED_IN.test(r.out)) {
      throw new Stop('not logged in to Cloudflare: run `npx wrangler login`, or set CLOUDFLARE_API_TOKEN to an API token\n' +
        '(template "Edit Cloudflare Workers", plus Queues and R2 edit permissions) and CLOUDFLARE_ACCOUNT_ID.' + (r.out.trim() ? `\nwrangler said:\n${r.out.trim()}` : ''));
    }
    const who = r.out.match(/associated with the email\s+(\S+)/)?.[1];
    say(`    logged in${who ? ` as ${who}` : ''}${process.env.CLOUDFLARE_API_TOKEN ? ' (CLOUDFLARE_API_TOKEN)' : ''}`);
  }

  step(2, 'Secrets (set with `wrangler secret put NAME`; values never on a command line)');
  const existing = dryRun ? new Set() : await secretNames();
  if (existing === null) say(`    no Worker "${plan.name}" yet: the first secret put creates it`);
  const missing = [];
  for (const s of SECRETS) {
    if (existing?.has(s.name)) {
      say(`    ${s.name}: set`);
      continue;
    }
    const env = fromEnv(s.name);
    if (env.value) {
      if (dryRun) say(`    would run: wrangler secret put ${s.name}   (the value from this shell's ${s.name}, on stdin)`);
      else {
        const r = await wrangler(['secret', 'put', s.name], { input: env.value, quiet: true });
        if (r.code !== 0) throw new Stop(`\`wrangler secret put ${s.name}\` exited ${r.code}:\n${r.out.trim()}`);
        say(`    ${s.name}: put from this shell's environment`);
      }
      continue;
    }
    if (env.unusable) say(`    ${env.unusable}`);
    if (dryRun) say(`    ${s.name}: ${s.required ? 'required' : 'optional'}, checked when deploying — ${s.what}`);
    else if (s.required) missing.push(s);
    else say(`    ${s.name}: not set (optional: ${s.what})`);
  }
  if (missing.length) {
    throw new Stop(`the Worker needs ${missing.map((s) => s.name).join(' and ')}. Set ${missing.length > 1 ? 'them' : 'it'} (each command asks for the value):\n` +
      missing.map((s) => `  npx wrangler secret put ${s.name}   # ${s.what}`).join('\n') +
      '\nor export them in this shell and run `npm run deploy` again.');
  }
  if (plan.vars.PUBLIC_URL === undefined && (existing?.has('RESEND_API_KEY') || fromEnv('RESEND_API_KEY').value)) {
    say('    note: RESEND_API_KEY without PUBLIC_URL in wrangler.toml [vars]: the Worker refuses to send mail until you set it');
  }

  step(3, `Queues (${plan.queues.length}) and R2 buckets (${plan.buckets.length}) from wrangler.toml`);
  for (const q of plan.queues) await ensureCreated('queue', ['queues', 'create', q], q, dryRun);
  for (const b of plan.buckets) await ensureCreated('R2 bucket', ['r2', 'bucket', 'create', b], b, dryRun);

  step(4, 'Build (node scripts/build.mjs)');
  if (!build) say('    skipped (--no-build)');
  else {
    const r = await run(process.execPath, [join(root, 'scripts', 'build.mjs')]);
    if (r.code !== 0) throw new Stop(`the build failed (exit ${r.code})`);
  }

  step(5, dryRun ? 'wrangler deploy --dry-run --outdir dist/worker' : 'wrangler deploy');
  const deployArgs = dryRun ? ['deploy', '--dry-run', '--outdir', 'dist/worker'] : ['deploy'];
  const deployed = await wrangler(deployArgs, { env: dryRun ? { CLOUDFLARE_CF_FETCH_ENABLED: 'false' } : {} });
  if (deployed.code !== 0) throw new Stop(`\`wrangler ${deployArgs.join(' ')}\` exited ${deployed.code}`);
  const url = deployed.out.match(/https:\/\/[^\s]+\.workers\.dev/)?.[0];

  step(6, 'Migrations');
  if (migrate) {
    const r = await run(process.execPath, [join(root, 'scripts', 'migrate.mjs'), '--remote']);
    if (r.code !== 0) throw new Stop('the migrations were not applied; the Worker applies them on its first request, or run `npm run migrate -- --remote` again');
  } else say('    applied by the Worker on its first request (or now: npm run migrate -- --remote, with DATABASE_URL and DATABASE_AUTH_TOKEN exported)');

  if (dryRun) say('\nDry run done: the bundle is in dist/worker. Nothing was created, put or uploaded.');
  else {
    say(`\nDeployed${url ? `: ${url}` : ''}.`);
    say('Next: run `npx wrangler tail` and open the Worker\'s address once: while no dashboard user exists, the log shows');
    say('a one-time link to create the first admin (set PUBLIC_URL in wrangler.toml so that it names your address).');
  }
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  if (!(e instanceof Stop)) throw e;
  console.error(`\ndeploy stopped: ${e.message}`);
  process.exitCode = 1;
}
