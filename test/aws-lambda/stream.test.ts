/**
 * streamHandler against a stand-in for the Lambda Node.js runtime's `awslambda` global: the
 * metadata prelude, chunks as the app sends them, backpressure, and the client leaving.
 */
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { streamHandler, type LambdaLogger, type ResponseStream } from '../../src/aws-lambda/index.js';
import { ClientDisconnect, type ASGIApp, type ASGIReceiveEvent } from '../../src/index.js';
import { sleep, within } from '../support/asgi.js';
import { repoRoot } from '../support/run.js';

const event = () => JSON.parse(readFileSync(join(repoRoot, 'test', 'aws-lambda', 'fixtures', 'function-url.json'), 'utf8')) as LambdaFunctionURLEvent;
const enc = (s: string) => Buffer.from(s, 'latin1');

/** A response stream that takes `take` bytes, then holds further writes until `release()`. */
class SlowStream extends Writable {
  written: Buffer[] = [];
  private gate: Promise<void> = Promise.resolve();
  private open: () => void = () => {};
  constructor() {
    super({ highWaterMark: 1024 });
  }
  hold(): void {
    this.gate = new Promise((resolve) => { this.open = resolve; });
  }
  release(): void {
    this.open();
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    void this.gate.then(() => {
      this.written.push(chunk);
      callback();
    });
  }
  text(): string {
    return Buffer.concat(this.written).toString('latin1');
  }
}

// What the runtime does: the handler is marked for streaming, and HttpResponseStream.from writes
// the metadata as JSON and eight NUL bytes before the body.
const metadataSeen: unknown[] = [];
beforeAll(() => {
  (globalThis as { awslambda?: unknown }).awslambda = {
    streamifyResponse: (fn: unknown) => fn,
    HttpResponseStream: {
      from(stream: ResponseStream, metadata: unknown) {
        metadataSeen.push(metadata);
        stream.write(Buffer.concat([Buffer.from(JSON.stringify(metadata)), Buffer.alloc(8)]));
        return stream;
      },
    },
  };
});
afterAll(() => {
  delete (globalThis as { awslambda?: unknown }).awslambda;
});

function quietLogger() {
  const lines: string[] = [];
  const logger: LambdaLogger = { error: (m, e) => lines.push(`${m} ${String(e)}`), warn: (m) => lines.push(m), info: (m) => lines.push(m) };
  return { logger, lines };
}

test('metadata then each chunk, with backpressure from the response stream', async () => {
  let sent = 0;
  const app: ASGIApp = async (_scope, receive, send) => {
    await receive();
    await send({ type: 'http.response.start', status: 200, headers: [[enc('content-type'), enc('text/plain')], [enc('set-cookie'), enc('a=1')], [enc('set-cookie'), enc('b=2')]] });
    for (let i = 0; i < 20; i++) {
      await send({ type: 'http.response.body', body: Buffer.alloc(512, 97 + (i % 26)), more_body: true });
      sent += 1;
    }
    await send({ type: 'http.response.body', body: enc('end') });
  };
  const stream = new SlowStream();
  stream.hold();
  const running = streamHandler(app, { lifespan: 'off' })(event(), stream);
  await sleep(50);
  // The stream takes nothing while held: the app waits once past its buffer.
  expect(sent).toBeLessThan(6);
  stream.release();
  await within(5_000, running, 'the streamed response');
  expect(sent).toBe(20);
  expect(metadataSeen.at(-1)).toEqual({ statusCode: 200, headers: { 'content-type': 'text/plain' }, cookies: ['a=1', 'b=2'] });
  const out = stream.text();
  const body = out.slice(out.indexOf('\0'.repeat(8)) + 8);
  expect(body).toHaveLength(20 * 512 + 3);
  expect(body.endsWith('end')).toBe(true);
  expect(stream.writableFinished).toBe(true);
});

test('the stream closing is http.disconnect to the app, and send() raises ClientDisconnect', async () => {
  const received: ASGIReceiveEvent[] = [];
  let error: unknown;
  const app: ASGIApp = async (_scope, receive, send) => {
    received.push(await receive());
    await send({ type: 'http.response.start', status: 200, headers: [] });
    await send({ type: 'http.response.body', body: enc('first'), more_body: true });
    received.push(await receive()); // waits for the client to leave
    try {
      await send({ type: 'http.response.body', body: enc('more'), more_body: true });
    } catch (e) {
      error = e;
    }
  };
  const stream = new SlowStream();
  const log = quietLogger();
  const running = streamHandler(app, { lifespan: 'off', logger: log.logger })(event(), stream);
  await sleep(30);
  stream.destroy();
  await within(5_000, running, 'the app ending after the disconnect');
  expect(received.map((m) => m.type)).toEqual(['http.request', 'http.disconnect']);
  expect(error).toBeInstanceOf(ClientDisconnect);
  expect(log.lines).toEqual([]);
});

test('an app that fails before its start gets a 500; after it, the invocation fails', async () => {
  const log = quietLogger();
  const early = new SlowStream();
  await streamHandler(async () => { throw new Error('early'); }, { lifespan: 'off', logger: log.logger })(event(), early);
  expect(metadataSeen.at(-1)).toMatchObject({ statusCode: 500 });
  expect(early.text()).toMatch(/Internal Server Error$/);

  const late = new SlowStream();
  const app: ASGIApp = async (_s, _r, send) => {
    await send({ type: 'http.response.start', status: 200, headers: [] });
    await send({ type: 'http.response.body', body: enc('part'), more_body: true });
    throw new Error('late');
  };
  await expect(streamHandler(app, { lifespan: 'off', logger: log.logger })(event(), late)).rejects.toThrow('late');
  expect(late.writableFinished).toBe(false);
  expect(log.lines.join('\n')).toMatch(/early[\s\S]*late/);
});

test('without the awslambda global, streamHandler says what it needs', () => {
  const saved = (globalThis as { awslambda?: unknown }).awslambda;
  delete (globalThis as { awslambda?: unknown }).awslambda;
  try {
    expect(() => streamHandler(async () => {})).toThrow(/awslambda.*RESPONSE_STREAM/);
  } finally {
    (globalThis as { awslambda?: unknown }).awslambda = saved;
  }
});
