/** Clearing a unix socket file left behind, so that listen on its path can succeed. */
import cluster from 'node:cluster';
import { lstatSync, unlinkSync } from 'node:fs';

/**
 * A socket file left by a process that is gone would make listen fail, as asyncio's unix server
 * also assumes. Not in a cluster worker: there the primary owns the listening socket, the first
 * worker's listen makes it create the file, and a later worker removing it would leave the
 * cluster listening on a path nobody can reach. The primary removes a stale file once, before it
 * forks.
 */
export function removeStaleSocket(path: string): void {
  if (cluster.isWorker) return;
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Nothing there: nothing to remove.
  }
}
