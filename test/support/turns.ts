/**
 * Counts microtask turns while `run` goes on, so a test can tell how many promise hops lie
 * between two points. Bounded: a hang shows as a failure, not a test that never ends.
 */
export async function countingTurns<T>(run: (turn: () => number) => Promise<T>): Promise<T> {
  let turns = 0;
  let ticking = true;
  void (async () => {
    while (ticking && turns < 100_000) {
      await null;
      turns += 1;
    }
  })();
  try {
    return await run(() => turns);
  } finally {
    ticking = false;
  }
}
