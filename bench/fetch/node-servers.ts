/**
 * The Node servers bench/fetch compares, one per process: `node dist/bench/fetch/node-servers.js`
 * with VARIANT set; each prints `listening <url>`.
 *
 * - `serve`: the tsgi app on tsgi's own `serve`
 * - `hono-node-server`: the tsgi app through toFetchHandler on @hono/node-server
 * - `srvx`: the tsgi app through toFetchHandler on srvx, responses built as srvx's `FastResponse`
 * - `srvx-global-response`: the same, responses built as the global (undici) `Response`
 * - `hono-native`: the Hono app on @hono/node-server
 * - `hono-on-serve`: the Hono app through fromFetchHandler on tsgi's `serve`, with
 *   `overrideGlobalResponse` (the footing @hono/node-server gives Hono by default)
 * - `hono-on-serve-native-response`: the same with the global (undici) `Response` left alone
 * - `fetch-on-serve`: a bare fetch handler through fromFetchHandler on `serve` (its cost without Hono's)
 */
import { serve as honoServe } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { FastResponse, serve as srvxServe } from 'srvx/node';
import { fromFetchHandler, toFetchHandler } from '../../src/index.js';
import { serve } from '../../src/node/index.js';
import { reportCpuOnRequest } from '../cpu-report.js';
import { app, bareFetch, hono } from './app.js';

const variant = process.env.VARIANT ?? 'serve';
const quiet = { error: console.error, warn: () => {}, info: () => {} };

if (variant === 'serve' || variant === 'hono-on-serve' || variant === 'hono-on-serve-native-response' || variant === 'fetch-on-serve') {
  const chosen = variant === 'serve' ? app
    : variant === 'fetch-on-serve' ? fromFetchHandler(bareFetch)
      : fromFetchHandler(hono.fetch, { overrideGlobalResponse: variant === 'hono-on-serve' });
  const server = await serve(chosen, { port: 0, validate: false, lifespan: 'off', logger: quiet });
  console.log(`listening ${server.url}`);
} else if (variant === 'hono-node-server' || variant === 'hono-native') {
  const fetch = variant === 'hono-native' ? hono.fetch : toFetchHandler(app, { validate: false, lifespan: 'off', logger: quiet }).fetch;
  const server = honoServe({ fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => console.log(`listening http://127.0.0.1:${info.port}`));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
} else if (variant === 'srvx' || variant === 'srvx-global-response') {
  const responseClass = variant === 'srvx' ? FastResponse : undefined;
  const server = srvxServe({ fetch: toFetchHandler(app, { validate: false, lifespan: 'off', logger: quiet, ...(responseClass === undefined ? {} : { responseClass }) }).fetch, port: 0, hostname: '127.0.0.1', silent: true });
  await server.ready();
  console.log(`listening ${server.url!.replace(/\/$/, '')}`);
  process.on('SIGTERM', () => void server.close(true).then(() => process.exit(0)));
} else {
  throw new Error(`unknown VARIANT ${variant}`);
}
reportCpuOnRequest();
