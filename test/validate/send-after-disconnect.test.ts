/**
 * ASGI 2.4: a send on a closed connection raises an error the app may catch (tsgi's servers raise
 * ClientDisconnect); it is not a protocol violation. validate, the real server and the README must
 * all say so; this fails when any of them drifts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { ClientDisconnect, HTTPStateMachine, ProtocolError, type ASGIApp } from '../../src/index.js';
import { serve } from '../../src/node/index.js';
import { TestClient } from '../../src/testing/index.js';
import { within } from '../support/asgi.js';
import { repoRoot } from '../support/run.js';

/** Starts a response, waits for http.disconnect, then sends once more; reports what that send raised. */
function lateSender(report: (error: unknown) => void): ASGIApp {
  return async (scope, receive, send) => {
    if (scope.type !== 'http') return;
    await send({ type: 'http.response.start', status: 200, headers: [] });
    await send({ type: 'http.response.body', body: new TextEncoder().encode('first'), more_body: true });
    for (;;) if ((await receive()).type === 'http.disconnect') break;
    try {
      await send({ type: 'http.response.body', body: new TextEncoder().encode('late'), more_body: false });
      report(undefined);
    } catch (error) {
      report(error);
    }
  };
}

test('under serve with validation on, the send after http.disconnect gets the server\'s ClientDisconnect', async () => {
  let settle!: (error: unknown) => void;
  const raised = new Promise<unknown>((resolve) => {
    settle = resolve;
  });
  const errors: string[] = [];
  const server = await serve(lateSender(settle), {
    port: 0, signals: false, validate: true, logger: { error: (m) => errors.push(m), warn: (m) => errors.push(m), info: () => {} },
  });
  try {
    const req = request(`${server.url}/`, (res) => res.once('data', () => req.destroy()));
    req.on('error', () => {});
    req.end();
    const error = await within(10_000, raised, 'the late send');
    expect(error).toBeInstanceOf(ClientDisconnect);
    expect(error).not.toBeInstanceOf(ProtocolError);
  } finally {
    await server.close();
  }
  expect(errors).toEqual([]);
});

test('through the TestClient (validated), the same', async () => {
  let settle!: (error: unknown) => void;
  const raised = new Promise<unknown>((resolve) => {
    settle = resolve;
  });
  const controller = new AbortController();
  const response = await new TestClient(lateSender(settle)).fetch('/', { signal: controller.signal });
  const reader = response.body!.getReader();
  await reader.read();
  controller.abort();
  const error = await within(5_000, raised, 'the late send');
  expect(error).toBeInstanceOf(ClientDisconnect);
});

test('the state machine takes the send, and the README says it is no violation', () => {
  const machine = new HTTPStateMachine('GET');
  expect(machine.send({ type: 'http.response.start', status: 200, headers: [] })).toBeNull();
  expect(machine.receive({ type: 'http.disconnect' })).toBeNull();
  expect(machine.send({ type: 'http.response.body', body: new Uint8Array(1), more_body: false })).toBeNull();
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8').replace(/\s+/g, ' ');
  const validation = (/## Validation(.*?)## Middleware/.exec(readme)?.[1] ?? '').toLowerCase();
  expect(validation.includes('a send after the client left is not a violation')).toBe(true);
  expect(/send after[^.;]*disconnect[^.;]* is a violation/.exec(validation)?.[0]).toBeUndefined();
});
