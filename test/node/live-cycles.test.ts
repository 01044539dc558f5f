/** LiveCycles: a connection's cycles with responses in progress, one in a slot and the pipelined rest in a Set. */
import { LiveCycles } from '../../src/node/connection.js';

const cycle = (name: string, closed: string[]) => ({ name, connectionClosed: () => closed.push(name) });

test('every cycle still live hears the close once, in the slot or in the overflow; deleted ones do not', () => {
  const closed: string[] = [];
  const live = new LiveCycles<ReturnType<typeof cycle>>();
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => cycle(n, closed)) as [ReturnType<typeof cycle>, ReturnType<typeof cycle>, ReturnType<typeof cycle>, ReturnType<typeof cycle>];
  live.add(a);
  live.add(b); // pipelined behind a
  live.add(c);
  live.delete(a); // the slot frees
  live.add(d); // takes the slot
  live.delete(c); // from the overflow
  live.drain((x) => x.connectionClosed());
  expect(closed.sort()).toEqual(['b', 'd']);
  // Drained: a second close notifies nobody, and deleting what is gone is harmless.
  live.delete(b);
  live.drain((x) => x.connectionClosed());
  expect(closed).toHaveLength(2);
});
