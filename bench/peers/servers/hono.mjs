import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { port, stream, reportCpuOnRequest } from './common.mjs';

const app = new Hono();
app.use(async (c, next) => {
  await next();
  c.header('x-middleware', '1');
});
// Hono's own idiom for a text response (and its fast path).
app.get('/', (c) => c.text('Hello, world!'));
app.get('/stream', (c) => c.body(ReadableStream.from(stream()), 200, { 'content-type': 'application/octet-stream' }));
const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, (info) => console.log(`listening http://127.0.0.1:${info.port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));

reportCpuOnRequest();
