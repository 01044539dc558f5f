/** A forced garbage collection, without starting node with --expose-gc. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
export const gc = runInNewContext('gc') as () => void;

/**
 * Memory the process holds on the JS heap and in array buffers, after a full collection. Array
 * buffer memory is given back by V8's sweeper after the collection, so it is read one event loop
 * turn and one more collection later.
 */
export async function liveBytes(): Promise<number> {
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}
