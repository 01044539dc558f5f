/**
 * TestClient raises late errors, as Starlette's does: the response body ends only when the app
 * call returns, and an error the app throws after its response started (even after the last body)
 * errors that body, so `await response.text()` rejects with it.
 */
import { PlainTextResponse, type ASGIApp } from '../../src/index.js';
import { TestClient } from '../../src/testing/index.js';
import { sleep, within } from '../support/asgi.js';

const encoder = new TextEncoder();

/** Sends a whole response, then runs `after` (as a background task would). */
const thenRun = (after: () => Promise<void>, status = 200): ASGIApp => async (scope, _receive, send) => {
  if (scope.type !== 'http') return;
  await send({ type: 'http.response.start', status, headers: [] });
  if (status !== 204) await send({ type: 'http.response.body', body: encoder.encode('done') });
  await after();
};

test('an error after the response completed rejects the body with that error', async () => {
  const late = new Error('after the response');
  const response = await new TestClient(thenRun(async () => {
    throw late;
  })).fetch('/');
  expect(response.status).toBe(200);
  await expect(within(5_000, response.text())).rejects.toBe(late);
});

test('the body ends only when the app call returns', async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let returned = false;
  const response = await new TestClient(thenRun(async () => {
    await gate;
    returned = true;
  })).fetch('/');
  let text: string | undefined;
  const reading = response.text().then((t) => {
    text = t;
  });
  await sleep(50);
  expect(text).toBeUndefined(); // all bytes are there, but the app is still running
  release();
  await within(5_000, reading);
  expect(returned).toBe(true);
  expect(text).toBe('done');
});

test('a background task that fails after the response raises too', async () => {
  const failing = new PlainTextResponse('hello', {
    background: async () => {
      throw new Error('task failed');
    },
  });
  const response = await new TestClient(failing).fetch('/');
  await expect(within(5_000, response.text())).rejects.toThrow('task failed');
});

test('a response without a body (204): the late error rejects fetch itself', async () => {
  const late = new Error('after a 204');
  await expect(within(5_000, new TestClient(thenRun(async () => {
    throw late;
  }, 204)).fetch('/'))).rejects.toBe(late);
});

test('raiseAppErrors: false keeps a completed response as it was sent', async () => {
  const client = new TestClient(thenRun(async () => {
    throw new Error('ignored');
  }), { raiseAppErrors: false });
  const response = await client.fetch('/');
  expect(await within(5_000, response.text())).toBe('done');
  const empty = await new TestClient(thenRun(async () => {
    throw new Error('ignored');
  }, 204), { raiseAppErrors: false }).fetch('/');
  expect(empty.status).toBe(204);
});

test('an app that returns normally still ends its body', async () => {
  const response = await new TestClient(thenRun(async () => {})).fetch('/');
  expect(await within(5_000, response.text())).toBe('done');
});
