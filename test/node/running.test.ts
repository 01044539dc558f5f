/** RunningCalls: serve's list of app calls in flight, linked through the entries themselves. */
import { RunningCalls, type RunningEntry } from '../../src/node/running.js';

interface Entry extends RunningEntry { name: string }
const entry = (name: string): Entry => ({ name, prevRunning: undefined, nextRunning: undefined });

test('adds and removes from the middle, head and tail; size and order (oldest first) follow', () => {
  const calls = new RunningCalls<Entry>();
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(entry) as [Entry, Entry, Entry, Entry];
  for (const e of [a, b, c, d]) calls.add(e);
  expect(calls.size).toBe(4);
  expect(calls.list().map((e) => e.name)).toEqual(['a', 'b', 'c', 'd']);
  calls.delete(b); // middle
  expect(calls.list().map((e) => e.name)).toEqual(['a', 'c', 'd']);
  calls.delete(d); // newest (the head)
  expect(calls.list().map((e) => e.name)).toEqual(['a', 'c']);
  calls.delete(a); // oldest (the tail)
  expect(calls.list().map((e) => e.name)).toEqual(['c']);
  expect(calls.size).toBe(1);
  calls.delete(c);
  expect(calls.size).toBe(0);
  expect(calls.list()).toEqual([]);
  // A removed entry keeps no links, so it holds nothing alive and can be added again.
  expect([a.prevRunning, a.nextRunning, d.prevRunning, d.nextRunning]).toEqual([undefined, undefined, undefined, undefined]);
  calls.add(b);
  expect(calls.list().map((e) => e.name)).toEqual(['b']);
});
