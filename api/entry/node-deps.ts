import { getConnInfo } from '@hono/node-server/conninfo';
import type { Config } from '../env';
import type { AppDeps } from '../app';
import { openGeo } from './geo-node';
import { readNodeBody } from './node-body';

/** The Node-specific pieces of the public endpoints (also used by the ingest benchmark). */
export function nodePublicDeps(config: Config, geo = openGeo(config.GEOIP_DB)): NonNullable<AppDeps['public']> {
  return {
    clientIp: (c) => getConnInfo(c).remote.address ?? null,
    geo,
    readBody: readNodeBody,
  };
}
