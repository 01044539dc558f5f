/**
 * An abort storm over real sockets: a thousand requests to a streaming route behind
 * baseHTTPMiddleware, many cut by the client at random points mid-response, some read slowly.
 * Bounded in count and in time. Every app call must settle, nothing may go unhandled, the server
 * must still answer, and the heap must come back to where it was.
 */
import { Agent, request as httpRequest } from 'node:http';
import { baseHTTPMiddleware, PlainTextResponse, StreamingResponse, type ASGIApp } from '../../src/index.js';
import { serve, type Logger } from '../../src/node/index.js';
import { sleep, within } from '../support/asgi.js';
import { liveBytes } from '../support/gc.js';

const REQUESTS = 1000;
const CONCURRENCY = 40;
const CHUNKS = 32;
const CHUNK = 8 * 1024;
const MiB = 1024 * 1024;

test('a thousand requests, many aborted mid-response: everything settles, nothing leaks', async () => {
  const problems: unknown[] = [];
  const onProblem = (error: unknown) => problems.push(error);
  process.on('unhandledRejection', onProblem);
  process.on('uncaughtException', onProblem);

  let started = 0;
  let finished = 0;
  let cleanedUp = 0;
  const streaming: ASGIApp = async (scope, receive, send) => {
    if (scope.type !== 'http') return;
    started += 1;
    try {
      if (scope.path === '/ping') {
        await new PlainTextResponse('pong')(scope, receive, send);
        return;
      }
      async function* body() {
        try {
          for (let i = 0; i < CHUNKS; i++) {
            yield new Uint8Array(CHUNK).fill(i);
            if (i % 8 === 7) await sleep(1);
          }
        } finally {
          cleanedUp += 1;
        }
      }
      await new StreamingResponse(body())(scope, receive, send);
    } finally {
      finished += 1;
    }
  };
  const app = baseHTTPMiddleware(streaming, async (request, callNext) => {
    const response = await callNext(request);
    response.headers.set('x-storm', '1');
    return response;
  });
  const errors: string[] = [];
  const logger: Logger = { error: (m) => errors.push(m), warn: () => {}, info: () => {} };
  const server = await serve(app, { port: 0, signals: false, logger, validate: false });
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

  function one(i: number): Promise<string> {
    // A fixed pattern, so a failure can be replayed: aborts at varying points, some slow readers.
    const mode = i % 10 < 5 ? 'abort' : i % 10 === 5 ? 'slow' : 'read';
    const abortAfter = ((i * 7919) % (CHUNKS * CHUNK)) + 1;
    return new Promise((resolve) => {
      const req = httpRequest(`${server.url}/stream/${i}`, { agent }, (res) => {
        let received = 0;
        res.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (mode === 'abort' && received >= abortAfter) req.destroy();
          if (mode === 'slow') {
            res.pause();
            setTimeout(() => res.resume(), 2);
          }
        });
        res.on('end', () => resolve(received === CHUNKS * CHUNK ? 'complete' : 'short'));
        res.on('error', () => resolve('aborted'));
        res.on('close', () => resolve('aborted'));
      });
      req.on('error', () => resolve('aborted'));
      req.end();
    });
  }

  // Warm up, then take the baseline.
  for (let i = 0; i < 20; i++) await one(10 * i + 6);
  const before = await liveBytes();
  const outcomes: Record<string, number> = {};

  await within(90_000, (async () => {
    let next = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        const outcome = await one(next++);
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      }
    }));
  })(), 'the storm');

  // Every app call settles: the aborted ones learn of the disconnect and stop.
  await within(10_000, (async () => { while (finished < started) await sleep(10); })(), 'every app call settling');
  expect(finished).toBe(started);
  expect(cleanedUp).toBe(started);

  const ping = await new Promise<string>((resolve, reject) => {
    httpRequest(`${server.url}/ping`, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject).end();
  });
  expect(ping).toBe('pong');

  agent.destroy();
  await sleep(50);
  const after = await liveBytes();
  await server.close();
  process.off('unhandledRejection', onProblem);
  process.off('uncaughtException', onProblem);

  console.log(`abort storm: ${JSON.stringify(outcomes)}, ${started} app calls, heap ${((after - before) / 1024).toFixed(0)} KiB from the baseline`);
  expect(problems).toEqual([]);
  expect(errors).toEqual([]);
  expect((outcomes.aborted ?? 0) + (outcomes.short ?? 0)).toBeGreaterThan(REQUESTS / 3);
  expect(outcomes.complete).toBeGreaterThan(REQUESTS / 3);
  expect(after - before).toBeLessThan(4 * MiB);
}, 120_000);
