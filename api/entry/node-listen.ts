import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StartError } from './start-error';

/**
 * Binds the server to HOST:PORT. Done before anything is written (data directory, migrations,
 * the first admin key), so a port in use or a bad HOST stops the start with nothing changed.
 */
export function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => reject(listenError(e, port, host));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

function listenError(e: NodeJS.ErrnoException, port: number, host: string): Error {
  switch (e.code) {
    case 'EADDRINUSE':
      return new StartError(`PORT=${port}`, `is already in use on ${host}: stop what listens there or choose another PORT.`);
    case 'EACCES':
      return new StartError(`PORT=${port}`, 'may not be bound by this user (ports below 1024 need privileges): choose a PORT of 1024 or more.');
    case 'EADDRNOTAVAIL':
      return new StartError(`HOST=${host}`, 'is not an address of this machine: use 127.0.0.1, 0.0.0.0 (all interfaces) or one of its own addresses.');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
      return new StartError(`HOST=${host}`, 'does not resolve to an address: use an IP address such as 127.0.0.1 or 0.0.0.0, or a resolvable name.');
    default:
      return new StartError(`HOST=${host} PORT=${port}`, `cannot be listened on (${e.code ?? e.message}).`);
  }
}
