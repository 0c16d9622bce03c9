// Requests the Node adapter cannot turn into a Request (found by the hostile-input walk): the app
// never runs for them, and they used to get an empty 400. They get the API's JSON error, and the
// server carries on. From the built server, over a raw socket.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, startNode, type NodeServer } from './node-server';

describe('a request the Node server cannot read', () => {
  let server: NodeServer;
  beforeAll(async () => {
    server = await startNode();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it.each(['127.0.0.1:99999', 'exa mple.com', '[::1'])('Host %j gets a JSON 400 naming the problem, and /health still answers', async (host) => {
    const res = await rawRequest(server.port, { path: '/p/pricing', headers: { host } });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(res.body.toString());
    expect(body.error.code).toBe('BAD_REQUEST');
    expect(body.error.message).toMatch(/Host header or URL is malformed/);
    expect(body.error.requestId).toBe(res.headers['x-request-id']);
    expect(body.error.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const health = await rawRequest(server.port, { path: '/health' });
    expect(health.status).toBe(200);
  });
});
