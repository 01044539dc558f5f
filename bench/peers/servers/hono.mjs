import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { HELLO, port, stream } from './common.mjs';

const app = new Hono();
app.use(async (c, next) => {
  await next();
  c.header('x-middleware', '1');
});
app.get('/', (c) => c.body(HELLO, 200, { 'content-type': 'text/plain; charset=utf-8' }));
app.get('/stream', (c) => c.body(ReadableStream.from(stream()), 200, { 'content-type': 'application/octet-stream' }));
const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, (info) => console.log(`listening http://127.0.0.1:${info.port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
