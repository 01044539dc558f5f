import { ClientDisconnect, Request, type ASGIReceiveEvent, type HTTPScope } from '../../src/index.js';
import { fakeServer } from '../support/asgi.js';
import { b, httpScope } from '../support/messages.js';

const scope = (overrides: Record<string, unknown> = {}) => httpScope(overrides) as HTTPScope;
const chunk = (body: string, more = false): ASGIReceiveEvent => ({ type: 'http.request', body: b(body), more_body: more });
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

test('method, url, headers and query come from the scope', () => {
  const request = new Request(scope({
    method: 'POST', scheme: 'https', path: '/api/a b/c', root_path: '/api', query_string: b('x=1&y=%C3%A9&x=2'),
    headers: [[b('host'), b('example.org:8443')], [b('accept'), b('a')], [b('accept'), b('b')]],
  }));
  expect(request.method).toBe('POST');
  expect(request.url.href).toBe('https://example.org:8443/api/a%20b/c?x=1&y=%C3%A9&x=2');
  expect(request.query.getAll('x')).toEqual(['1', '2']);
  expect(request.query.get('y')).toBe('é');
  expect(request.headers.getAll('Accept')).toEqual(['a', 'b']);
});

test('without a host header the url uses the server address', () => {
  expect(new Request(scope({ headers: [], server: ['10.0.0.1', 8080] })).url.host).toBe('10.0.0.1:8080');
});

test('state lives in the scope, so every middleware shares it', () => {
  const s = scope({ state: undefined });
  new Request(s).state.user = 'ada';
  expect(new Request(s).state.user).toBe('ada');
});

test('body(), text() and json() read once and cache', async () => {
  const server = fakeServer([chunk('{"a":', true), chunk('1}')]);
  const request = new Request(scope(), server.receive);
  expect(await request.json()).toEqual({ a: 1 });
  expect(await request.text()).toBe('{"a":1}');
  expect(text(await request.body())).toBe('{"a":1}');
  expect(await request.json()).toBe(await request.json());
  expect(server.receiveCalls()).toBe(2);
});

test('stream() yields chunks as they arrive, once', async () => {
  const server = fakeServer([chunk('a', true), chunk('', true), chunk('b')]);
  const request = new Request(scope(), server.receive);
  const parts: string[] = [];
  for await (const part of request.stream()) parts.push(text(part));
  expect(parts).toEqual(['a', 'b']);
  await expect(request.stream().next()).rejects.toThrow('the request body stream was already consumed');
});

test('a disconnect mid-body is a ClientDisconnect', async () => {
  const request = new Request(scope(), fakeServer([chunk('a', true), { type: 'http.disconnect' }]).receive);
  await expect(request.body()).rejects.toBeInstanceOf(ClientDisconnect);
  expect(await request.isDisconnected()).toBe(true);
});

test('isDisconnected() keeps a body chunk it looked at for the next reader', async () => {
  const server = fakeServer([chunk('kept', true), chunk('!')]);
  const request = new Request(scope(), server.receive);
  expect(await request.isDisconnected()).toBe(false);
  expect(await request.text()).toBe('kept!');
});

test('isDisconnected() does not wait for a message that is not there', async () => {
  const server = fakeServer([]); // never answers
  const request = new Request(scope(), server.receive);
  expect(await request.isDisconnected()).toBe(false);
  expect(await request.isDisconnected()).toBe(false);
  expect(server.receiveCalls()).toBe(1);
});

test('a Request needs an http scope', () => {
  expect(() => new Request({ type: 'lifespan' } as unknown as HTTPScope)).toThrow(/needs an 'http' scope/);
});
