/**
 * An abort storm over real sockets: a thousand requests to a streaming route behind
 * baseHTTPMiddleware, many cut by the client at random points mid-response, some read slowly.
 * Bounded in count and in time. Every app call must settle, nothing may go unhandled, the server
 * must still answer, and the heap must come back to where it was. Run with validation off (the
 * server alone) and on (validate must not call an app that caught ClientDisconnect an error): in
 * both, the error log stays empty and every line the logger got is captured.
 */
import { jest } from '@jest/globals';
import { Agent, request as httpRequest } from 'node:http';
import { baseHTTPMiddleware, ClientDisconnect, PlainTextResponse, StreamingResponse, type ASGIApp } from '../../src/index.js';
import { serve, type Logger } from '../../src/node/index.js';
import { sleep, within } from '../support/asgi.js';
import { liveBytes } from '../support/gc.js';

const REQUESTS = 1000;
const CONCURRENCY = 40;
const CHUNKS = 32;
const CHUNK = 8 * 1024;
const MiB = 1024 * 1024;

test.each([false, true])('a thousand requests, many aborted mid-response, validate: %s: everything settles, nothing leaks', async (validation) => {
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
  const wrapped = baseHTTPMiddleware(streaming, async (request, callNext) => {
    const response = await callNext(request);
    response.headers.set('x-storm', '1');
    return response;
  });
  // Odd requests go to an app that only sends, never receives: it learns that the client left
  // from the ClientDisconnect its send raises, catches it and returns with its response
  // unfinished. validate sees exactly that, and must not call it an error.
  const direct: ASGIApp = async (_scope, _receive, send) => {
    started += 1;
    try {
      await send({ type: 'http.response.start', status: 200, headers: [] });
      for (let i = 0; i < CHUNKS; i++) {
        await send({ type: 'http.response.body', body: new Uint8Array(CHUNK).fill(i), more_body: true });
        if (i % 8 === 7) await sleep(1);
      }
      await send({ type: 'http.response.body', body: new Uint8Array(0) });
    } catch (error) {
      if (!(error instanceof ClientDisconnect)) throw error;
    } finally {
      cleanedUp += 1;
      finished += 1;
    }
  };
  const app: ASGIApp = (scope, receive, send) =>
    (scope.type === 'http' && scope.path.startsWith('/direct/') ? direct : wrapped)(scope, receive, send);
  const errors: string[] = [];
  const warnings: string[] = [];
  const logger: Logger = { error: (m) => errors.push(m), warn: (m) => warnings.push(m), info: () => {} };
  // validate itself reports on the console: catch that too.
  const consoleLines: unknown[] = [];
  const spies = (['error', 'warn'] as const).map((level) => jest.spyOn(console, level).mockImplementation((...args: unknown[]) => {
    consoleLines.push(args);
  }));
  const server = await serve(app, { port: 0, signals: false, logger, validate: validation });
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

  function one(i: number): Promise<string> {
    // A fixed pattern, so a failure can be replayed: aborts at varying points, some slow readers.
    const mode = i % 10 < 5 ? 'abort' : i % 10 === 5 ? 'slow' : 'read';
    const abortAfter = ((i * 7919) % (CHUNKS * CHUNK)) + 1;
    return new Promise((resolve) => {
      const req = httpRequest(`${server.url}/${i % 2 === 0 ? 'stream' : 'direct'}/${i}`, { agent }, (res) => {
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
  const rssBefore = process.memoryUsage().rss;
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
  const rssAfter = process.memoryUsage().rss;
  await server.close();
  process.off('unhandledRejection', onProblem);
  process.off('uncaughtException', onProblem);
  for (const spy of spies) spy.mockRestore();

  console.log(`abort storm: ${JSON.stringify(outcomes)}, ${started} app calls, heap ${((after - before) / 1024).toFixed(0)} KiB, RSS ${((rssAfter - rssBefore) / MiB).toFixed(1)} MiB from the baseline`);
  expect(problems).toEqual([]);
  expect(errors).toEqual([]);
  expect(warnings).toEqual([]);
  expect(consoleLines).toEqual([]);
  expect((outcomes.aborted ?? 0) + (outcomes.short ?? 0)).toBeGreaterThan(REQUESTS / 3);
  expect(outcomes.complete).toBeGreaterThan(REQUESTS / 3);
  // RSS is printed, not asserted: in a shared jest process it moves with the allocator's pools
  // (the first storm grows them by tens of MiB); live heap after GC is the measure of a leak.
  expect(after - before).toBeLessThan(4 * MiB);
}, 120_000);
