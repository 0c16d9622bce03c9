import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { promises as dns, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction, type Socket } from 'node:net';
import { addressAllowed, OutboundError, type OutboundPolicy, type OutboundTransport } from '../core/util/outbound';

/** Resolves a name to every address it has (getaddrinfo: /etc/hosts and DNS). */
export type Resolve = (hostname: string) => Promise<LookupAddress[]>;

const systemResolve: Resolve = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

/**
 * A `lookup` for node:net that resolves once and refuses the connection when
 * any answer is an address the policy refuses. The socket then connects to
 * exactly the addresses checked here, so a name that answered a public
 * address to an earlier check and a private one now (DNS rebinding) is
 * caught. All answers, not just the first, because with autoSelectFamily the
 * socket may try each of them.
 */
export function checkedLookup(resolve: Resolve, policy: OutboundPolicy): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname)
      .then((answers) => {
        const wanted = options.family === 4 || options.family === 6 ? answers.filter((a) => a.family === options.family) : answers;
        if (!wanted.length) throw new OutboundError('failed');
        if (!wanted.every((a) => addressAllowed(a.address, policy))) throw new OutboundError('refused');
        if (options.all) callback(null, wanted);
        else callback(null, wanted[0]!.address, wanted[0]!.family);
      })
      .catch((e: unknown) => callback(e instanceof OutboundError ? e : new OutboundError('failed'), '', 0));
  };
}

/**
 * Outbound HTTP on Node: node:http(s) with a fresh connection per request
 * (no pool, so no socket reused for another host), the checked lookup above,
 * and a last check of the peer address when the socket connects, which also
 * covers literal IPs (node:net does not call lookup for those). node:http
 * follows no redirect and adds no header of its own beyond Host and framing;
 * the deadline covers connect, answer and the capped body read.
 */
export function nodeOutbound(opts: { resolve?: Resolve } = {}): OutboundTransport {
  const resolve = opts.resolve ?? systemResolve;
  return (req) =>
    new Promise((done, fail) => {
      const url = req.url;
      const https = url.protocol === 'https:';
      const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
      let settled = false;
      const finish = (e: OutboundError | null, res?: { status: number; body: Uint8Array }) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        r.destroy();
        if (e) fail(e);
        else done(res!);
      };
      const r = (https ? httpsRequest : httpRequest)({
        host,
        port: url.port || (https ? 443 : 80),
        path: url.pathname + url.search,
        method: req.method,
        headers: { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)), connection: 'close' },
        agent: false,
        lookup: checkedLookup(resolve, req.policy),
        ...(https && !isIP(host) ? { servername: host } : {}),
      });
      const deadline = setTimeout(() => finish(new OutboundError('timeout')), req.timeoutMs);
      r.on('socket', (socket: Socket) => {
        // Prepended so it runs before node:http flushes the request onto the socket.
        socket.prependOnceListener('connect', () => {
          if (!addressAllowed(socket.remoteAddress ?? '', req.policy)) {
            socket.destroy();
            finish(new OutboundError('refused'));
          }
        });
      });
      r.on('response', (res: IncomingMessage) => {
        const parts: Buffer[] = [];
        let size = 0;
        const body = () => new Uint8Array(Buffer.concat(parts));
        res.on('data', (chunk: Buffer) => {
          const part = chunk.subarray(0, req.maxResponseBytes - size);
          parts.push(part);
          size += part.length;
          // Enough for the log: hang up rather than read a huge answer.
          if (size >= req.maxResponseBytes) finish(null, { status: res.statusCode ?? 0, body: body() });
        });
        res.on('end', () => finish(null, { status: res.statusCode ?? 0, body: body() }));
        res.on('error', () => finish(new OutboundError('failed')));
      });
      r.on('error', (e) => finish(e instanceof OutboundError ? e : new OutboundError('failed')));
      r.end(req.body);
    });
}
