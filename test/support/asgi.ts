/** Drives ASGI apps in tests with scripted servers: a queue of incoming messages and a record of sends. */
import type { ASGIReceiveEvent, ASGISendEvent, Receive, Send } from '../../src/index.js';

export interface FakeServer {
  receive: Receive;
  send: Send;
  sent: ASGISendEvent[];
  /** How many times the app called receive(). */
  receiveCalls: () => number;
}

/**
 * A server that hands out `incoming` in order; past the end it waits forever unless `then` says
 * what to answer (a disconnect, typically).
 */
export function fakeServer(incoming: unknown[] = [], then?: unknown): FakeServer {
  const queue = [...incoming];
  const sent: ASGISendEvent[] = [];
  let calls = 0;
  return {
    sent,
    receiveCalls: () => calls,
    receive: () => {
      calls += 1;
      if (queue.length > 0) return Promise.resolve(queue.shift() as ASGIReceiveEvent);
      if (then !== undefined) return Promise.resolve(then as ASGIReceiveEvent);
      return new Promise<ASGIReceiveEvent>(() => {});
    },
    send: (message) => {
      sent.push(message);
      return Promise.resolve();
    },
  };
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Fails, rather than hangs, when `promise` takes longer than `ms`: the bound that keeps a
 * regression in a concurrency test from stalling the suite.
 */
export async function within<T>(ms: number, promise: Promise<T>, what = 'the operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
