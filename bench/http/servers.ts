/**
 * The servers the load benchmarks compare, one per process: `node dist/bench/http/servers.js`
 * with VARIANT set. Each answers GET / with a 13-byte text body and GET /stream with 1 MiB in
 * 64 KiB chunks, prints `listening <url>`, and answers `cpu` on stdin with its CPU time.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { baseHTTPMiddleware, type ASGIApp, type HTTPResponseBodyEvent, type HTTPResponseStartEvent } from '../../src/index.js';
import { serve } from '../../src/node/index.js';
import { reportCpuOnRequest } from '../cpu-report.js';

const HELLO = Buffer.from('Hello, world!');
const CHUNK = Buffer.alloc(64 * 1024, 120);
const CHUNKS = 16; // 1 MiB
const port = Number(process.env.PORT ?? 0);
const variant = process.env.VARIANT ?? 'node';

const helloStart: HTTPResponseStartEvent = { type: 'http.response.start', status: 200, headers: [[Buffer.from('content-type'), Buffer.from('text/plain; charset=utf-8')]] };
const helloBody: HTTPResponseBodyEvent = { type: 'http.response.body', body: HELLO };
const streamStart: HTTPResponseStartEvent = { type: 'http.response.start', status: 200, headers: [[Buffer.from('content-type'), Buffer.from('application/octet-stream')]] };

const app: ASGIApp = async (scope, _receive, send) => {
  if (scope.type !== 'http') return;
  if (scope.path === '/stream') {
    await send(streamStart);
    for (let i = 1; i <= CHUNKS; i++) await send({ type: 'http.response.body', body: CHUNK, more_body: i < CHUNKS });
    return;
  }
  await send(helloStart);
  await send(helloBody);
};

const HEADER: [Buffer, Buffer] = [Buffer.from('x-middleware'), Buffer.from('1')];
/** A pure ASGI middleware that sets the header on the way out. */
const pure = (inner: ASGIApp): ASGIApp => (scope, receive, send) => inner(scope, receive, (message) =>
  send(message.type === 'http.response.start' ? { ...message, headers: [...(message.headers ?? []), HEADER] } : message));
/** A baseHTTPMiddleware that sets the same header. */
const base = (inner: ASGIApp): ASGIApp => baseHTTPMiddleware(inner, async (request, callNext) => {
  const response = await callNext(request);
  response.headers.set('x-middleware', '1');
  return response;
});
const stack = (wrap: (a: ASGIApp) => ASGIApp, n: number): ASGIApp => {
  let wrapped = app;
  for (let i = 0; i < n; i++) wrapped = wrap(wrapped);
  return wrapped;
};

if (variant === 'node') {
  // The limit: node:http with nothing on top, answering the same bodies.
  const server = createServer((req, res) => {
    if (req.url === '/stream') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let i = 0;
      const more = () => {
        while (i < CHUNKS) {
          i += 1;
          if (i === CHUNKS) return void res.end(CHUNK);
          if (!res.write(CHUNK)) return void res.once('drain', more);
        }
      };
      more();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': HELLO.length });
    res.end(HELLO);
  });
  server.listen(port, '127.0.0.1', () => console.log(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
} else {
  const variants: Record<string, [ASGIApp, boolean]> = {
    tsgi: [app, false],
    'tsgi-validate': [app, true],
    'tsgi-base1': [stack(base, 1), false],
    'tsgi-base10': [stack(base, 10), false],
    'tsgi-pure1': [stack(pure, 1), false],
    'tsgi-pure10': [stack(pure, 10), false],
  };
  const chosen = variants[variant];
  if (!chosen) throw new Error(`unknown VARIANT ${variant}`);
  const server = await serve(chosen[0], { port, validate: chosen[1], lifespan: 'off', logger: { error: console.error, warn: () => {}, info: () => {} } });
  console.log(`listening ${server.url}`);
}
reportCpuOnRequest();
