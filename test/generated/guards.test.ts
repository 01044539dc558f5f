import * as generated from '../../generated/index.js';
import { isHTTPResponseStartEvent, messageGuards, scopeGuards, type GuardFailure } from '../../src/index.js';
import { b, httpScope, wellFormed } from '../support/messages.js';
import { schemas } from '../support/schemas.js';

type Guard = (value: unknown) => boolean;
type Explain = (value: unknown) => GuardFailure | null;
const guards = generated as unknown as Record<string, Guard | Explain>;

describe.each(schemas.map((s) => [s.title]))('%s', (title) => {
  const is = guards[`is${title}`] as Guard;
  const explain = guards[`explain${title}`] as Explain;

  test('has a guard and an explanation', () => {
    expect(typeof is).toBe('function');
    expect(typeof explain).toBe('function');
  });

  test('accepts the well-formed example', () => {
    expect(wellFormed).toHaveProperty([title]);
    expect(explain(wellFormed[title])).toBeNull();
    expect(is(wellFormed[title])).toBe(true);
  });

  test('rejects a value of the wrong type at the root', () => {
    const bad = title === 'Bytes' ? 'text' : 42;
    expect(is(bad)).toBe(false);
    expect(explain(bad)).toMatchObject({ path: '', value: bad });
  });
});

// [schema title, value, JSON pointer, rule, message]
const failures: [string, unknown, string, string, string][] = [
  ['HTTPResponseStartEvent', { type: 'http.response.start', status: '200' }, '/status', 'type', 'must be an integer'],
  ['HTTPResponseStartEvent', { type: 'http.response.start' }, '/status', 'required', 'is required'],
  ['HTTPResponseStartEvent', { type: 'http.response.start', status: 99 }, '/status', 'minimum', 'must be >= 100'],
  ['HTTPResponseStartEvent', { type: 'http.response.start', status: 600 }, '/status', 'maximum', 'must be <= 599'],
  ['HTTPResponseStartEvent', { type: 'http.response.start', status: 200, headers: [[b('a'), b('b'), b('c')]] }, '/headers/0', 'maxItems', 'must have at most 2 items'],
  ['HTTPResponseStartEvent', { type: 'http.response.start', status: 200, headers: [[b('a')]] }, '/headers/0', 'minItems', 'must have at least 2 items'],
  ['HTTPResponseStartEvent', { type: 'http.response.start', status: 200, headers: [[b('a'), 'b']] }, '/headers/0/1', 'instanceof', 'must be a Uint8Array'],
  ['HTTPResponseStartEvent', { type: 'http.response.start', status: 200, headers: {} }, '/headers', 'type', 'must be an array'],
  ['HTTPResponseStartEvent', { type: 'http.response.start', status: 200, trailers: 'yes' }, '/trailers', 'type', 'must be a boolean'],
  ['HTTPResponseStartEvent', { type: 'http.response.body', status: 200 }, '/type', 'const', 'must be "http.response.start"'],
  ['HTTPResponseBodyEvent', { type: 'http.response.body', body: 'hello' }, '/body', 'instanceof', 'must be a Uint8Array'],
  ['HTTPResponseBodyEvent', { type: 'http.response.body', body: [104, 105] }, '/body', 'instanceof', 'must be a Uint8Array'],
  ['HTTPResponseBodyEvent', { type: 'http.response.body', more_body: 1 }, '/more_body', 'type', 'must be a boolean'],
  ['HTTPResponseBodyEvent', { body: b('x') }, '/type', 'required', 'is required'],
  ['HTTPRequestEvent', { type: 'http.request', body: 'hello' }, '/body', 'instanceof', 'must be a Uint8Array'],
  ['HTTPRequestEvent', { type: 'http.request', more_body: 'false' }, '/more_body', 'type', 'must be a boolean'],
  ['HTTPDisconnectEvent', { type: 'http.request' }, '/type', 'const', 'must be "http.disconnect"'],
  ['HTTPScope', httpScope({ method: 'get' }), '/method', 'pattern', 'must match pattern "^[!#$%&\'*+.^_`|~0-9A-Z-]+$"'],
  ['HTTPScope', httpScope({ http_version: '3' }), '/http_version', 'enum', 'must be one of "1.0", "1.1", "2"'],
  ['HTTPScope', httpScope({ query_string: 'a=1' }), '/query_string', 'instanceof', 'must be a Uint8Array'],
  ['HTTPScope', httpScope({ raw_path: '/' }), '/raw_path', 'anyOf', 'must be a Uint8Array or null'],
  ['HTTPScope', httpScope({ scheme: '' }), '/scheme', 'pattern', 'must match pattern "^[A-Za-z][A-Za-z0-9+.-]*$"'],
  ['HTTPScope', httpScope({ client: ['127.0.0.1', '80'] }), '/client/1', 'type', 'must be an integer'],
  ['HTTPScope', httpScope({ server: ['/tmp/sock', null] }), '', 'valid', ''],
  ['HTTPScope', httpScope({ client: '127.0.0.1' }), '/client', 'anyOf', 'must be an array or null'],
  ['HTTPScope', httpScope({ asgi: { version: '2.0' } }), '/asgi/version', 'const', 'must be "3.0"'],
  ['HTTPScope', httpScope({ headers: [[b('host'), b('x'), b('y')]] }), '/headers/0', 'maxItems', 'must have at most 2 items'],
  ['HTTPScope', httpScope({ extensions: { tls: { server_cert: null } } }), '/extensions/tls/tls_version', 'required', 'is required'],
  ['HTTPScope', httpScope({ extensions: { 'http.response.trailers': true } }), '/extensions/http.response.trailers', 'type', 'must be an object'],
  ['HTTPScope', httpScope({ path: undefined }), '/path', 'required', 'is required'],
  ['HTTPResponseTrailersEvent', { type: 'http.response.trailers' }, '/headers', 'required', 'is required'],
  ['HTTPResponsePathsendEvent', { type: 'http.response.pathsend', path: 'relative/file.txt' }, '/path', 'pattern', 'must match pattern "^(/|[A-Za-z]:[\\\\/])"'],
  ['HTTPResponsePathsendEvent', { type: 'http.response.pathsend', path: 'C:\\www\\a.txt' }, '', 'valid', ''],
  ['HTTPResponseZeroCopySendEvent', { type: 'http.response.zerocopysend', file: 1.5 }, '/file', 'type', 'must be an integer'],
  ['HTTPResponseZeroCopySendEvent', { type: 'http.response.zerocopysend', file: 3, count: -1 }, '/count', 'minimum', 'must be >= 0'],
  ['HTTPServerPushEvent', { type: 'http.response.push', headers: [] }, '/path', 'required', 'is required'],
  ['HTTPResponseEarlyHintEvent', { type: 'http.response.early_hint', links: ['</a>'] }, '/links/0', 'instanceof', 'must be a Uint8Array'],
  ['HTTPResponseDebugEvent', { type: 'http.response.debug', info: 'x' }, '/info', 'type', 'must be an object'],
  ['TLSExtension', { server_cert: null, tls_version: 772, cipher_suite: 70000 }, '/cipher_suite', 'maximum', 'must be <= 65535'],
  ['LifespanScope', { type: 'lifespan' }, '/asgi', 'required', 'is required'],
  ['LifespanStartupFailedEvent', { type: 'lifespan.startup.failed', message: 42 }, '/message', 'type', 'must be a string'],
  ['LifespanShutdownFailedEvent', { type: 'lifespan.shutdown.failed', message: null }, '/message', 'type', 'must be a string'],
  ['LifespanStartupEvent', { type: 'lifespan.shutdown' }, '/type', 'const', 'must be "lifespan.startup"'],
];

test.each(failures)('%s: %j fails at %s (%s)', (title, value, path, rule, message) => {
  const failure = (guards[`explain${title}`] as Explain)(value);
  const accepted = (guards[`is${title}`] as Guard)(value);
  if (rule === 'valid') {
    expect(failure).toBeNull();
    expect(accepted).toBe(true);
    return;
  }
  expect(accepted).toBe(false);
  expect(failure).toEqual({ path, rule, message, value: path.split('/').slice(1).reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], value) });
});

describe('extra keys', () => {
  // ASGI adds fields as the spec grows (spec_version, trailers); receivers ignore what they do
  // not know. So do the guards: unknown keys are accepted everywhere and left untouched.
  test.each(schemas.filter((s) => s.schema.type === 'object').map((s) => [s.title]))('%s accepts and keeps an unknown key', (title) => {
    const value = { ...(wellFormed[title] as object), x_vendor_field: { anything: true } };
    expect((guards[`is${title}`] as Guard)(value)).toBe(true);
    expect(value.x_vendor_field).toEqual({ anything: true });
  });
});

test('a Node Buffer is a byte string', () => {
  expect(isHTTPResponseStartEvent({ type: 'http.response.start', status: 204, headers: [[Buffer.from('a'), Buffer.from('b')]] })).toBe(true);
});

test('a guard narrows the type', () => {
  const value: unknown = wellFormed.HTTPResponseStartEvent;
  if (!isHTTPResponseStartEvent(value)) throw new Error('expected a response start');
  const status: number = value.status; // compiles only because the guard narrowed `value`
  expect(status).toBe(200);
});

test('the index maps every message and scope type to its guard, protocol and direction', () => {
  const messageSchemas = schemas.filter((s) => s.asgi && s.asgi.role !== 'scope');
  expect([...messageGuards.keys()].sort()).toEqual(messageSchemas.map((s) => s.typeName).sort());
  for (const s of messageSchemas) {
    const entry = messageGuards.get(s.typeName!)!;
    expect(entry).toMatchObject({ type: s.typeName, protocol: s.asgi!.protocol, direction: s.asgi!.role, extension: s.asgi!.extension ?? null });
    expect(entry.is(wellFormed[s.title])).toBe(true);
    expect(entry.is({ type: s.typeName, __proto__: null, body: 'not bytes', status: 'x', headers: 1, path: 1, links: 1, info: 1, file: 'x', message: 1 })).toBe(s.typeName!.endsWith('disconnect') || /lifespan\.(startup|shutdown)(\.complete)?$|^websocket\.(connect|close)$/.test(s.typeName!));
  }
  expect([...scopeGuards.keys()].sort()).toEqual(['http', 'lifespan', 'websocket']);
  expect(messageGuards.get('toString')).toBeUndefined();
});
