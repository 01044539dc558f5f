/**
 * The server owns HTTP/1.1 framing with validation off: what goes on the wire, byte for byte,
 * whatever the app sends and whatever the client pipelines. Raw sockets throughout.
 */
import { jest } from '@jest/globals';
import type { ASGIApp, ASGIReceiveEvent, HTTPScope } from '../../src/index.js';
import { sleep, within } from '../support/asgi.js';
import { exchange, rawConnect, statuses } from '../support/raw.js';
import { bytes, closeServers, startServer } from '../support/serving.js';

jest.setTimeout(30_000);
afterEach(closeServers);

const GET = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

/** An app that answers each path with what `routes` says to send. */
function sends(messages: (path: string) => unknown[]): ASGIApp {
  return async (scope, _receive, send) => {
    for (const message of messages((scope as HTTPScope).path)) await send(message as never);
  };
}

const start200 = (headers: [string, string][] = []) => ({ type: 'http.response.start', status: 200, headers: headers.map(([n, v]) => [bytes(n), bytes(v)]) });

describe('content-length is held to, in bytes', () => {
  test('bytes past a declared content-length are never written: no forged second response, the connection closes, logged once', async () => {
    const forged = 'HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nforged';
    const server = await startServer(sends((path) => path === '/a'
      ? [start200([['content-length', '5']]), { type: 'http.response.body', body: bytes('hello'), more_body: true }, { type: 'http.response.body', body: bytes(forged), more_body: true }, { type: 'http.response.body', body: bytes('more') }]
      : [start200(), { type: 'http.response.body', body: bytes(`real ${path}`) }]));
    const text = await exchange(server.port, GET('/a') + GET('/b'));
    expect(text).not.toContain('forged');
    expect(text.endsWith('\r\n\r\nhello')).toBe(true);
    expect(statuses(text)).toEqual([200]);
    expect(server.lines.filter((l) => l.includes('more body than its content-length'))).toHaveLength(1);
  });

  test('a body sent whole and longer than its content-length is cut at the length', async () => {
    const server = await startServer(sends(() => [start200([['content-length', '2']]), { type: 'http.response.body', body: bytes('hello world') }]));
    const text = await exchange(server.port, GET('/'));
    expect(text).toMatch(/content-length: 2\r\n/i);
    expect(text.endsWith('\r\n\r\nhe')).toBe(true);
  });

  test('a response shorter than its content-length closes the connection: the next response is never read as its body', async () => {
    const server = await startServer(sends((path) => path === '/short'
      ? [start200([['content-length', '100']]), { type: 'http.response.body', body: bytes('only this'), more_body: true }, { type: 'http.response.body', body: bytes('') }]
      : [start200(), { type: 'http.response.body', body: bytes('second') }]));
    const text = await exchange(server.port, GET('/short') + GET('/next'));
    expect(text).not.toContain('second');
    expect(text.endsWith('only this')).toBe(true);
  });

  test('multi-byte characters are counted as bytes', async () => {
    const body = Buffer.from('héllo wörld', 'utf8');
    const server = await startServer(sends(() => [start200([['content-length', String(body.length)]]), { type: 'http.response.body', body }]));
    const conn = await rawConnect(server.port);
    conn.write(GET('/') + GET('/'));
    // Keep-alive: the count matched, so both responses come on one connection.
    const text = await conn.until(/(HTTP\/1\.1 200[^]*){2}w\xc3\xb6rld$/, 5000);
    conn.socket.destroy();
    expect(statuses(text)).toEqual([200, 200]);
    expect(Buffer.from(text, 'latin1').toString('utf8').match(/héllo wörld/g)).toHaveLength(2);
  });

  test('a body that is not a Uint8Array (a string, from a broken app) is an app error: 500, nothing of it written', async () => {
    const server = await startServer(sends(() => [start200(), { type: 'http.response.body', body: 'héllo' }]));
    const text = await exchange(server.port, GET('/'));
    expect(statuses(text)).toEqual([500]);
    expect(text).not.toContain('llo');
    expect(server.lines.some((l) => l.startsWith('error: Exception in ASGI application') && l.includes('Uint8Array'))).toBe(true);
  });
});

describe('one framing per response', () => {
  test('an app-set transfer-encoding: chunked with a content-length: the content-length is dropped, the body chunked', async () => {
    const server = await startServer(sends(() => [
      start200([['content-length', '3'], ['transfer-encoding', 'chunked']]),
      { type: 'http.response.body', body: bytes('abc'), more_body: true },
      { type: 'http.response.body', body: bytes('def') },
    ]));
    const conn = await rawConnect(server.port);
    conn.write(GET('/'));
    const text = await conn.until(/0\r\n\r\n$/);
    conn.socket.destroy();
    expect(text).not.toMatch(/content-length/i);
    expect(text.match(/transfer-encoding/gi)).toHaveLength(1);
    expect(text).toContain('\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n');
  });

  test('a transfer coding that does not end in chunked delimits the body by closing the connection', async () => {
    const server = await startServer(sends(() => [start200([['transfer-encoding', 'gzip'], ['content-length', '3']]), { type: 'http.response.body', body: bytes('zzz') }]));
    const text = await exchange(server.port, GET('/') + GET('/'));
    expect(text).not.toMatch(/content-length/i);
    expect(statuses(text)).toEqual([200]);
    expect(text).toMatch(/connection: close/i);
  });
});

describe('an invalid head from the app gets a 500 when nothing was written', () => {
  const cases: [string, unknown][] = [
    ['a CR LF in a header value', start200([['x-evil', 'a\r\nset-cookie: pwned=1']])],
    ['a space in a header name', start200([['bad name', 'x']])],
    ['a status below 200', { type: 'http.response.start', status: 101, headers: [] }],
    ['a status above 999', { type: 'http.response.start', status: 1000, headers: [] }],
    ['a status that is not a number', { type: 'http.response.start', status: 'ok', headers: [] }],
    ['a content-length that is not a number', start200([['content-length', '12abc']])],
    ['two content-lengths that disagree', start200([['content-length', '3'], ['content-length', '4']])],
    ['a control byte in a header value, on a 201', { type: 'http.response.start', status: 201, headers: [[bytes('x-a'), bytes('a\x01b')]] }],
  ];
  test.each(cases)('%s', async (_what, start) => {
    const server = await startServer(sends(() => [start, { type: 'http.response.body', body: bytes('abc') }]));
    const text = await exchange(server.port, GET('/'));
    expect(statuses(text)).toEqual([500]);
    expect(text).not.toContain('pwned');
    // The status line is the 500's own, whatever node made of the refused head.
    expect(text.startsWith('HTTP/1.1 500 Internal Server Error\r\n')).toBe(true);
    expect(text.endsWith('Internal Server Error')).toBe(true);
  });
});

describe('request bodies', () => {
  test('a GET: the first receive() is the empty body at once, then http.disconnect once the response is done', async () => {
    const seen: ASGIReceiveEvent[] = [];
    let done!: () => void;
    const finished = new Promise<void>((resolve) => { done = resolve; });
    const server = await startServer(async (_scope, receive, send) => {
      seen.push(await within(1000, receive(), 'the first receive()'));
      await send({ type: 'http.response.start', status: 200, headers: [] });
      await send({ type: 'http.response.body', body: bytes('ok') });
      seen.push(await within(1000, receive(), 'the receive() after the response'));
      done();
    });
    await exchange(server.port, GET('/', 'connection: close\r\n'));
    await within(2000, finished);
    expect(seen).toMatchObject([{ type: 'http.request', more_body: false }, { type: 'http.disconnect' }]);
    expect((seen[0] as { body: Uint8Array }).body).toHaveLength(0);
  });

  test('content-length: 0 also gives the empty body at once', async () => {
    let first: ASGIReceiveEvent | undefined;
    const server = await startServer(async (_scope, receive, send) => {
      first = await within(1000, receive());
      await send({ type: 'http.response.start', status: 204, headers: [] });
      await send({ type: 'http.response.body' });
    });
    const text = await exchange(server.port, 'POST / HTTP/1.1\r\nHost: t\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    expect(statuses(text)).toEqual([204]);
    expect(first).toMatchObject({ type: 'http.request', more_body: false });
  });

  test('a small unread body is drained and the connection answers the next request at once', async () => {
    const server = await startServer(sends((path) => [start200(), { type: 'http.response.body', body: bytes(path) }]));
    const conn = await rawConnect(server.port);
    const body = 'x'.repeat(100 * 1024);
    conn.write(`POST /upload HTTP/1.1\r\nHost: t\r\ncontent-length: ${body.length}\r\n\r\n`);
    await sleep(50);
    conn.write(body + GET('/next'));
    const text = await conn.until(/\/next$/, 3000);
    conn.socket.destroy();
    expect(statuses(text)).toEqual([200, 200]);
    expect(text).not.toMatch(/connection: close/i);
  });

  test('a body partly read, the rest unread: the next request on the connection is answered, not left hanging', async () => {
    const server = await startServer(async (scope, receive, send) => {
      if ((scope as HTTPScope).method === 'POST') await receive();
      await send({ type: 'http.response.start', status: 200, headers: [] });
      await send({ type: 'http.response.body', body: bytes((scope as HTTPScope).path) });
    });
    const conn = await rawConnect(server.port);
    const body = 'y'.repeat(200 * 1024);
    conn.write(`POST /upload HTTP/1.1\r\nHost: t\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
    await conn.until(/\/upload$/);
    conn.write(GET('/next'));
    const text = await conn.until(/\/next$/, 3000);
    conn.socket.destroy();
    expect(statuses(text)).toEqual([200, 200]);
  });

  test('a large unread body closes the connection after the response, promptly', async () => {
    const server = await startServer(sends((path) => [start200(), { type: 'http.response.body', body: bytes(path) }]));
    const conn = await rawConnect(server.port);
    conn.write(`POST /big HTTP/1.1\r\nHost: t\r\ncontent-length: ${64 * 1024 * 1024}\r\n\r\n`);
    conn.write(Buffer.alloc(1024 * 1024, 0x61));
    const t0 = Date.now();
    const text = await conn.whenClosed(3000);
    conn.socket.destroy();
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(statuses(text)).toEqual([200]);
    expect(text).toMatch(/connection: close/i);
  });

  test('a malformed chunk in a body the app is reading: the app hears http.disconnect, the client gets 400', async () => {
    let heard: string | undefined;
    const server = await startServer(async (_scope, receive) => {
      for (;;) {
        const message = await receive();
        if (message.type === 'http.disconnect') { heard = message.type; return; }
      }
    });
    const conn = await rawConnect(server.port);
    conn.write('POST / HTTP/1.1\r\nHost: t\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n');
    await sleep(100);
    conn.write('zz-not-a-chunk-size\r\n\r\n');
    const text = await conn.whenClosed(3000);
    await within(1000, (async () => { while (heard === undefined) await sleep(5); })());
    expect(statuses(text)).toEqual([400]);
    expect(heard).toBe('http.disconnect');
  });
});

describe('client errors never land on a response in flight', () => {
  const slowApp: ASGIApp = async (scope, _receive, send) => {
    await sleep(300);
    await send({ type: 'http.response.start', status: 200, headers: [[bytes('content-type'), bytes('text/plain')]] });
    await send({ type: 'http.response.body', body: bytes(`answer to ${(scope as HTTPScope).path}`) });
  };

  test('garbage after a valid request, while its app runs: the request gets its own response, then the connection closes', async () => {
    const server = await startServer(slowApp);
    const text = await exchange(server.port, `${GET('/first')}GARBAGE GARBAGE\r\n\r\n`);
    expect(statuses(text)).toEqual([200]);
    expect(text.endsWith('answer to /first')).toBe(true);
  });

  test('a request pipelined after Connection: close, while the first is in flight', async () => {
    const server = await startServer(slowApp);
    const text = await exchange(server.port, GET('/first', 'connection: close\r\n') + GET('/second'));
    expect(statuses(text)).toEqual([200]);
    expect(text.endsWith('answer to /first')).toBe(true);
  });

  test('valid pipelined requests before the garbage are all answered, in order', async () => {
    const server = await startServer(slowApp);
    const text = await exchange(server.port, `${GET('/one')}${GET('/two')}\x00\x01garbage\r\n\r\n`);
    expect(statuses(text)).toEqual([200, 200]);
    expect(text.indexOf('answer to /one')).toBeLessThan(text.indexOf('answer to /two'));
    expect(text.endsWith('answer to /two')).toBe(true);
  });

  test('garbage on an idle connection gets 400 and a close', async () => {
    const server = await startServer(slowApp);
    const text = await exchange(server.port, 'NOT HTTP AT ALL\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(text).toMatch(/connection: close/i);
  });
});

describe('http.response.pathsend', () => {
  test('a file longer than the declared content-length is cut at it; a shorter one closes the connection', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'tsgi-pathsend-'));
    const file = join(dir, 'f.txt');
    writeFileSync(file, 'abcdefghij');
    try {
      const server = await startServer(sends((path) => [
        start200([['content-length', path === '/long' ? '4' : '20']]),
        { type: 'http.response.pathsend', path: file },
      ]));
      const long = await rawConnect(server.port);
      long.write(GET('/long'));
      const text = await long.until(/abcd/);
      await sleep(100);
      expect(long.received()).toBe(text);
      expect(text.endsWith('\r\n\r\nabcd')).toBe(true);
      long.socket.destroy();
      const short = await exchange(server.port, GET('/short') + GET('/next'));
      expect(statuses(short)).toEqual([200]);
      expect(short.endsWith('abcdefghij')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
