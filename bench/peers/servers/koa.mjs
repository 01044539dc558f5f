import Koa from 'koa';
import { Readable } from 'node:stream';
import { HELLO, port, stream, reportCpuOnRequest } from './common.mjs';

const app = new Koa();
app.use(async (ctx, next) => {
  await next();
  ctx.set('x-middleware', '1');
});
app.use(async (ctx) => {
  if (ctx.path === '/stream') {
    ctx.type = 'application/octet-stream';
    ctx.body = Readable.from(stream());
    return;
  }
  ctx.type = 'text/plain; charset=utf-8';
  ctx.body = HELLO;
});
const server = app.listen(port, '127.0.0.1', () => console.log(`listening http://127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));

reportCpuOnRequest();
