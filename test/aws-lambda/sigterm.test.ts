/** Lifespan shutdown on the SIGTERM Lambda sends a container (when an extension is registered). */
import { runChild } from '../support/child.js';

test('SIGTERM after an invocation runs lifespan shutdown, then the process exits 0', async () => {
  const child = runChild('test/aws-lambda/sigterm-child.ts');
  try {
    await child.waitFor(/invoked: 200/, 30_000);
    child.process.kill('SIGTERM');
    await child.waitFor(/lifespan shutdown ran/, 10_000);
    expect(await child.exited).toBe(0);
  } finally {
    if (child.process.exitCode === null) child.process.kill('SIGKILL');
  }
}, 45_000);
