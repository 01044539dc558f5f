/**
 * The cost of validation on one complete HTTP exchange, in process: the scope, one request
 * event, the start and three body chunks (five messages), with validation off and on.
 *
 *   npm run bench:validate
 */
import { validate, type ASGIApp, type ASGIReceiveEvent, type HTTPResponseBodyEvent, type HTTPResponseStartEvent, type Scope } from '../../src/index.js';
import { machineLine, printTable, sideBySide } from '../harness.js';

const enc = new TextEncoder();
const scope = {
  type: 'http', asgi: { version: '3.0', spec_version: '2.5' }, http_version: '1.1', method: 'POST', scheme: 'http',
  path: '/echo', raw_path: enc.encode('/echo'), query_string: enc.encode(''), root_path: '',
  headers: [
    [enc.encode('host'), enc.encode('127.0.0.1:8000')],
    [enc.encode('user-agent'), enc.encode('bench/1.0')],
    [enc.encode('content-type'), enc.encode('text/plain')],
    [enc.encode('content-length'), enc.encode('5')],
  ],
  client: ['127.0.0.1', 50000], server: ['127.0.0.1', 8000], state: {}, extensions: {},
} as Scope;
const request: ASGIReceiveEvent = { type: 'http.request', body: enc.encode('hello'), more_body: false };
const start: HTTPResponseStartEvent = { type: 'http.response.start', status: 200, headers: [[enc.encode('content-type'), enc.encode('text/plain')]] };
const chunk: HTTPResponseBodyEvent = { type: 'http.response.body', body: enc.encode('chunk'), more_body: true };
const last: HTTPResponseBodyEvent = { type: 'http.response.body', body: enc.encode('last!'), more_body: false };
const MESSAGES_PER_EXCHANGE = 5;

const app: ASGIApp = async (_scope, receive, send) => {
  await receive();
  await send(start);
  await send(chunk);
  await send(chunk);
  await send(last);
};
const receive = () => Promise.resolve(request);
const send = () => Promise.resolve();

function exchanges(wrapped: ASGIApp) {
  return async (n: number) => {
    for (let i = 0; i < n; i++) await wrapped(scope, receive, send);
    return n;
  };
}

const N = Number(process.env.BENCH_N ?? 200_000);
console.log(`bench/validate: ${machineLine()}, ${N} exchanges per sample, median of 7 interleaved rounds`);
const results = await sideBySide(
  [
    { name: 'validation off', run: exchanges(validate(app, { enabled: false })) },
    { name: 'validation on', run: exchanges(validate(app, { enabled: true })) },
  ],
  { n: N },
);
printTable('one exchange (scope, 1 request event, start, 3 body chunks)', results, 'validation off', 'ns/exchange');
const added = results[1]!.nsPerOp - results[0]!.nsPerOp;
console.log(`\nadded by validation: ${added.toFixed(0)} ns per exchange, ${(added / MESSAGES_PER_EXCHANGE).toFixed(0)} ns per message (scope check spread over the ${MESSAGES_PER_EXCHANGE} messages; target: under 1000 ns per message)`);
