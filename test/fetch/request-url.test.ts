/**
 * The URL a deferred request answers with is taken as it was built when the URL parser would give
 * it back unchanged, and parsed otherwise. Whatever the host, port and target, it must be what the
 * `Request` constructor itself holds, and refused where the constructor refuses it.
 */
import fc from 'fast-check';
import { servedRequest } from '../../src/fetch/served-request.js';

function viaServed(origin: string, target: string): string {
  try {
    return servedRequest(origin, target, 'GET', [], {}).url;
  } catch {
    return 'refused';
  }
}

function viaConstructor(url: string): string {
  try {
    return new Request(url).url;
  } catch {
    return 'refused';
  }
}

const hosts = ['localhost', 'example.com', 'EXAMPLE.com', 'a-b.example', 'example.com.', 'a..b', '127.0.0.1', '127.1', '0x7f.0.0.1', '1.2.3.4.5',
  '256.0.0.1', '01.2.3.4', 'foo.123', 'xn--abc', 'xn--bcher-kva.example', '[::1]', 'user:pw@host', 'h_st', 'ex%41mple.com', 'bücher.de', ''];
const ports = ['', ':80', ':443', ':080', ':8080', ':65535', ':65536', ':0', ':', ':x'];
const pieces = ['/', '.', '..', '%2e', '%2E', '%', '%41', 'a', 'Z', '?', '#', ' ', '\\', '~', "'", '"', '<', '>', '{', '|', '^', '`', 'é', '@', ':', ';', '=', '&', '+', '*', '(', '[', '\t'];

test('every URL reads as the Request constructor holds it (property)', () => {
  fc.assert(fc.property(
    fc.constantFrom('http', 'https'), fc.constantFrom(...hosts), fc.constantFrom(...ports), fc.array(fc.constantFrom(...pieces), { maxLength: 12 }),
    (scheme, host, port, target) => {
      const origin = `${scheme}://${host}${port}`;
      const path = `/${target.join('')}`;
      expect(viaServed(origin, path)).toBe(viaConstructor(origin + path));
    },
  ), { numRuns: 3000 });
});

test('named cases: dot segments, default ports, IPv4 spellings, escapes', () => {
  for (const url of [
    'http://example.com/a/../b', 'http://example.com/a/%2e%2E/b', 'http://example.com/a/./b?x=/../', 'http://example.com:80/', 'https://example.com:443/x',
    'http://127.1/', 'http://example.com/a b', 'http://example.com/?q=\'"', 'http://localhost:8000/plain/path?x=1&y=2', 'http://127.0.0.1:3000/',
  ]) {
    const slash = url.indexOf('/', url.indexOf('//') + 2);
    expect(viaServed(url.slice(0, slash), url.slice(slash))).toBe(viaConstructor(url));
  }
});

test('through fromFetchHandler, each request gets its own host, even when the bytes of the last one change', async () => {
  const { fromFetchHandler } = await import('../../src/fetch/index.js');
  const seen: string[] = [];
  const app = fromFetchHandler((request) => {
    seen.push(request.url);
    return new Response('ok');
  });
  const enc = new TextEncoder();
  async function call(host: Uint8Array | undefined, scheme = 'http', rawPath = '/') {
    const scope = {
      type: 'http' as const, asgi: { version: '3.0' as const }, http_version: '1.1' as const, method: 'GET', scheme, path: rawPath, raw_path: enc.encode(rawPath),
      query_string: new Uint8Array(0), root_path: '', headers: host === undefined ? [] : [[enc.encode('host'), host] as [Uint8Array, Uint8Array]],
      client: null, server: ['10.0.0.1', 8080] as [string, number],
    };
    await app(scope, () => new Promise(() => {}), async () => {});
  }
  for (const shared of [enc.encode('a.example'), Buffer.from('a.example')]) {
    await call(shared);
    shared.set(enc.encode('b'), 0); // the server reuses the memory for the next request's host
    await call(shared);
  }
  await call(enc.encode('b.example'), 'https');
  await call(enc.encode('b.example'), 'https', '/x');
  await call(undefined);
  await call(enc.encode('a.example:80'));
  expect(seen).toEqual(['http://a.example/', 'http://b.example/', 'http://a.example/', 'http://b.example/', 'https://b.example/', 'https://b.example/x', 'http://10.0.0.1:8080/', 'http://a.example/']);
});
