import type { Server, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import type { Logger } from '../core/context';

export interface DrainSteps {
  server: Server;
  log: Logger;
  /** Stops the job timer and resolves when a job run in progress has finished. */
  stopJobs: () => Promise<void>;
  /** Work after the last response: flush the group commit, settle deferred work, close the database. */
  finish: () => Promise<void>;
  /** After this, give up: exit non-zero with a log line. */
  deadlineMs: number;
  exit?: (code: number) => void;
}

/**
 * SIGTERM / SIGINT drain the server (DESIGN.md: nothing acknowledged is lost, nothing in flight
 * fails): stop accepting, let every request in flight be answered, close each connection after
 * its answer, then run `finish` and exit 0. Requests that arrive on an open keep-alive connection
 * while draining are still answered (with Connection: close), never dropped half-way.
 */
export function drainOnSignals(steps: DrainSteps): void {
  const drain = createDrain(steps);
  process.on('SIGTERM', () => void drain('SIGTERM'));
  process.on('SIGINT', () => void drain('SIGINT'));
}

/** The drain itself, started by calling the returned function (tests call it directly). */
export function createDrain(steps: DrainSteps): (signal: string) => Promise<void> {
  const { server, log, deadlineMs } = steps;
  const exit = steps.exit ?? ((code: number) => process.exit(code));
  const inFlight = new Set<ServerResponse>();
  // Answers not yet finished, per connection: a connection with one is never cut.
  const busy = new Map<Socket, number>();
  const sockets = new Set<Socket>();
  let accepted = 0;
  let draining = false;

  server.on('connection', (socket: Socket) => {
    accepted++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // Prepended: a response answered synchronously (a cached script) must still see the flag.
  server.prependListener('request', (req, res: ServerResponse) => {
    if (draining) res.shouldKeepAlive = false;
    inFlight.add(res);
    const socket = req.socket;
    busy.set(socket, (busy.get(socket) ?? 0) + 1);
    res.once('close', () => {
      inFlight.delete(res);
      const n = (busy.get(socket) ?? 1) - 1;
      if (n > 0) busy.set(socket, n);
      else busy.delete(socket);
    });
  });

  // A connection with no answer pending that received nothing for a whole sweep is idle: closed.
  // Node's own server.close() closes idle connections at once, which also cuts one that was just
  // accepted and whose request is still on its way; one quiet sweep lets that request arrive.
  const bytesAtLastSweep = new Map<Socket, number>();
  const sweepIdle = () => {
    for (const socket of sockets) {
      if (busy.has(socket)) {
        bytesAtLastSweep.delete(socket);
      } else if (bytesAtLastSweep.get(socket) === socket.bytesRead) {
        socket.destroy();
      } else {
        bytesAtLastSweep.set(socket, socket.bytesRead);
      }
    }
  };

  // Node accepts one pending connection per turn of the event loop, so on a busy server the
  // kernel holds connections completed well before the signal; closing the listening socket
  // would reset them with their requests unanswered. Take turns until one brings no new
  // connection (bounded: under steady load new ones keep coming), then stop listening.
  const acceptPending = async () => {
    const until = Date.now() + 500;
    for (let turn = 0; turn < 1000 && Date.now() < until; turn++) {
      const before = accepted;
      // An immediate set from an immediate runs after the next poll phase, where accepts happen.
      await new Promise((r) => setImmediate(() => setImmediate(r)));
      if (accepted === before) return;
    }
  };

  const drain = async (signal: string) => {
    // npm start forwards a terminal's Ctrl-C that the process group also received: a second
    // signal is normal, and must not cut the drain short.
    if (draining) return log.debug('already draining', { signal });
    draining = true;
    const started = Date.now();
    log.info('draining before exit', { signal, inFlight: inFlight.size, deadlineMs });
    // Not unref'd: a drain stuck on a promise that nothing will settle must still end here.
    const deadline = setTimeout(() => {
      log.error('drain did not finish in time; exiting', { deadlineMs, inFlight: inFlight.size, connections: sockets.size });
      exit(1);
    }, deadlineMs);
    try {
      const jobsStopped = steps.stopJobs();
      for (const res of inFlight) if (!res.headersSent) res.shouldKeepAlive = false;
      await acceptPending();
      // net's close, not http's: http's also drops idle connections at once (see sweepIdle).
      // Resolves once every connection has ended.
      const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
      const sweeper = setInterval(sweepIdle, 200);
      sweepIdle();
      await Promise.all([closed.finally(() => clearInterval(sweeper)), jobsStopped]);
      await steps.finish();
      clearTimeout(deadline);
      log.info('drained; exiting', { ms: Date.now() - started });
      exit(0);
    } catch (e) {
      clearTimeout(deadline);
      log.error('drain failed; exiting', { error: e instanceof Error ? e.message : String(e) });
      exit(1);
    }
  };
  return drain;
}
