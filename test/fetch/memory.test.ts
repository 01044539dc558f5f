/**
 * 64 MiB through toFetchHandler, read slowly: the memory held must not grow with the size. The app
 * allocates a fresh chunk every time, so a handler that buffered ahead of the reader would hold
 * tens of MiB.
 */
import { toFetchHandler, type ASGIApp } from '../../src/index.js';
import { sleep, within } from '../support/asgi.js';
import { liveBytes } from '../support/gc.js';

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;
const TOTAL = 64 * MiB;

test('64 MiB response read slowly, in bounded memory', async () => {
  let produced = 0;
  const app: ASGIApp = async (_s, _r, send) => {
    await send({ type: 'http.response.start', status: 200, headers: [] });
    for (let sent = CHUNK; sent <= TOTAL; sent += CHUNK) {
      produced = sent;
      await send({ type: 'http.response.body', body: new Uint8Array(CHUNK).fill(sent % 251), more_body: sent < TOTAL });
    }
  };
  const baseline = await liveBytes();
  const response = await toFetchHandler(app, { lifespan: 'off' }).fetch(new Request('http://h/'));
  const reader = response.body!.getReader();
  let received = 0;
  let chunks = 0;
  const samples: number[] = [];
  const lead: number[] = [];
  await within(90_000, (async () => {
    for (let step = await reader.read(); !step.done; step = await reader.read()) {
      received += step.value.length;
      chunks += 1;
      if (chunks % 64 === 0) {
        // A slow reader: let the app run as far ahead as it is allowed to.
        await sleep(5);
        lead.push(produced - received);
        samples.push((await liveBytes()) - baseline);
      }
    }
  })(), 'reading 64 MiB');
  expect(received).toBe(TOTAL);
  const peak = Math.max(...samples);
  console.log(`64 MiB through toFetchHandler: peak live growth ${(peak / 1024).toFixed(0)} KiB, app ahead by at most ${Math.max(...lead) / 1024} KiB`);
  // The app is never more than a couple of chunks ahead of the reader.
  expect(Math.max(...lead)).toBeLessThanOrEqual(2 * CHUNK);
  expect(peak).toBeLessThan(4 * MiB);
}, 120_000);
