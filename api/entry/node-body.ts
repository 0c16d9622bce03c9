import type { Context } from 'hono';
import type { IncomingMessage } from 'node:http';
import { PayloadTooLargeError } from '../core/errors';

/**
 * Reads a request body straight from Node's IncomingMessage, bounded. On the
 * ingestion hot path this skips building a web Request and its stream for
 * every hit, which the Node adapter otherwise does when the body is read.
 */
export function readNodeBody(c: Context, limit: number): Promise<string> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming || incoming.readableEnded) return c.req.text();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    incoming.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        incoming.destroy();
        reject(new PayloadTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    });
    let ended = false;
    incoming.on('end', () => {
      ended = true;
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    incoming.on('error', reject);
    // A client that hangs up mid-body: an ordinary abort (logged at debug level), not a hang.
    incoming.on('close', () => {
      if (!ended) reject(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    });
  });
}
