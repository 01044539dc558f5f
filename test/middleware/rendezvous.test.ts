import { END, NOTHING, Rendezvous } from '../../src/middleware/rendezvous.js';
import { sleep } from '../support/asgi.js';

test('a send resolves only once the consumer has moved past its message', async () => {
  const channel = new Rendezvous<string>();
  const done: string[] = [];
  const a = channel.send('a').then(() => done.push('a'));
  await sleep(1);
  expect(done).toEqual([]);
  expect(await channel.next()).toBe('a');
  await sleep(1);
  expect(done).toEqual([]); // taken, still being handled
  const b = channel.send('b').then(() => done.push('b'));
  expect(await channel.next()).toBe('b');
  await a;
  expect(done).toEqual(['a']);
  channel.ack();
  await b;
  expect(done).toEqual(['a', 'b']);
});

test('a consumer waiting first gets the message directly', async () => {
  const channel = new Rendezvous<number>();
  const next = channel.next();
  void channel.send(1);
  expect(await next).toBe(1);
});

test('end() gives END after what is buffered', async () => {
  const channel = new Rendezvous<number>();
  void channel.send(1);
  channel.end();
  expect(await channel.next()).toBe(1);
  expect(await channel.next()).toBe(END);
  const waiting = new Rendezvous<number>();
  const next = waiting.next();
  waiting.end();
  expect(await next).toBe(END);
});

test('close() releases every producer and drops later sends', async () => {
  const channel = new Rendezvous<number>();
  const first = channel.send(1);
  channel.close();
  await first;
  await channel.send(2);
  expect(await channel.next()).toBe(END);
});

test('take() hands over a waiting message without a promise, and NOTHING otherwise', async () => {
  const channel = new Rendezvous<string>();
  expect(channel.take()).toBe(NOTHING);
  let released = false;
  void channel.send('a').then(() => {
    released = true;
  });
  expect(channel.take()).toBe('a');
  await sleep(1);
  expect(released).toBe(false); // held until dealt with, as with next()
  expect(channel.take()).toBe(NOTHING);
  channel.ack();
  await sleep(1);
  expect(released).toBe(true);
});
