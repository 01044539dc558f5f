/**
 * The Bun servers bench/fetch compares: `bun dist/bench/fetch/bun-server.js` with VARIANT
 * `bare` (a plain fetch handler on Bun.serve) or `tsgi` (the tsgi app through toFetchHandler on
 * Bun.serve). Prints `listening <url>`.
 */
import { toFetchHandler } from '../../src/index.js';
import { reportCpuOnRequest } from '../cpu-report.js';
import { app, bareFetch } from './app.js';

declare const Bun: { serve(options: { port: number; hostname: string; fetch: (request: Request, server: unknown) => Response | Promise<Response> }): { port: number } };

const variant = (globalThis as unknown as { process: { env: Record<string, string | undefined> } }).process.env['VARIANT'] ?? 'bare';
const fetch = variant === 'bare' ? bareFetch : toFetchHandler(app, { validate: false, lifespan: 'off' }).fetch;
const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch });
console.log(`listening http://127.0.0.1:${server.port}`);
reportCpuOnRequest();
