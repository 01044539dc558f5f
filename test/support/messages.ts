/** One well-formed value per schema, by title: the starting point for tests that break them. */
const enc = new TextEncoder();
export const b = (text: string): Uint8Array => enc.encode(text);

export function httpScope(overrides: Record<string, unknown> = {}) {
  return {
    type: 'http' as const,
    asgi: { version: '3.0' as const, spec_version: '2.5' },
    http_version: '1.1' as const,
    method: 'GET',
    scheme: 'http',
    path: '/',
    raw_path: b('/'),
    query_string: b(''),
    root_path: '',
    headers: [[b('host'), b('example.org')]] as [Uint8Array, Uint8Array][],
    client: ['127.0.0.1', 50000] as [string, number],
    server: ['127.0.0.1', 8000] as [string, number],
    state: {},
    extensions: {},
    ...overrides,
  };
}

export const wellFormed: Record<string, unknown> = {
  ASGIVersions: { version: '3.0', spec_version: '2.5' },
  Bytes: b('x'),
  Header: [b('a'), b('b')],
  Headers: [[b('a'), b('b')], [b('a'), b('c')]],
  HTTPScope: httpScope({ extensions: { 'http.response.trailers': {}, tls: { server_cert: null, tls_version: 0x0304, cipher_suite: 0x1301 } } }),
  TLSExtension: { server_cert: '-----BEGIN CERTIFICATE-----', client_cert_chain: [], client_cert_name: null, client_cert_error: null, tls_version: 0x0303, cipher_suite: null },
  HTTPRequestEvent: { type: 'http.request', body: b('hello'), more_body: true },
  HTTPDisconnectEvent: { type: 'http.disconnect' },
  HTTPResponseStartEvent: { type: 'http.response.start', status: 200, headers: [[b('content-type'), b('text/plain')]], trailers: false },
  HTTPResponseBodyEvent: { type: 'http.response.body', body: b('hi'), more_body: false },
  HTTPResponseTrailersEvent: { type: 'http.response.trailers', headers: [[b('x-checksum'), b('abc')]], more_trailers: false },
  HTTPResponsePathsendEvent: { type: 'http.response.pathsend', path: '/var/www/index.html' },
  HTTPResponseZeroCopySendEvent: { type: 'http.response.zerocopysend', file: 3, offset: 0, count: 10, more_body: false },
  HTTPServerPushEvent: { type: 'http.response.push', path: '/style.css', headers: [] },
  HTTPResponseEarlyHintEvent: { type: 'http.response.early_hint', links: [b('</style.css>; rel=preload; as=style')] },
  HTTPResponseDebugEvent: { type: 'http.response.debug', info: { template: 'index.html' } },
  LifespanScope: { type: 'lifespan', asgi: { version: '3.0', spec_version: '2.0' }, state: {} },
  LifespanStartupEvent: { type: 'lifespan.startup' },
  LifespanStartupCompleteEvent: { type: 'lifespan.startup.complete' },
  LifespanStartupFailedEvent: { type: 'lifespan.startup.failed', message: 'no database' },
  LifespanShutdownEvent: { type: 'lifespan.shutdown' },
  LifespanShutdownCompleteEvent: { type: 'lifespan.shutdown.complete' },
  LifespanShutdownFailedEvent: { type: 'lifespan.shutdown.failed', message: 'flush failed' },
  WebSocketScope: {
    type: 'websocket', asgi: { version: '3.0', spec_version: '2.5' }, http_version: '1.1', scheme: 'ws', path: '/chat',
    raw_path: b('/chat'), query_string: b(''), root_path: '', headers: [[b('host'), b('example.org')]],
    client: ['127.0.0.1', 50000], server: ['127.0.0.1', 8000], subprotocols: ['chat.v1'], state: {},
    extensions: { 'websocket.http.response': {} },
  },
  WebSocketConnectEvent: { type: 'websocket.connect' },
  WebSocketAcceptEvent: { type: 'websocket.accept', subprotocol: 'chat.v1', headers: [[b('x-room'), b('lobby')]] },
  WebSocketReceiveEvent: { type: 'websocket.receive', text: 'hello', bytes: null },
  WebSocketSendEvent: { type: 'websocket.send', bytes: b('hello') },
  WebSocketDisconnectEvent: { type: 'websocket.disconnect', code: 1001, reason: 'going away' },
  WebSocketCloseEvent: { type: 'websocket.close', code: 4000, reason: 'bye' },
  WebSocketResponseStartEvent: { type: 'websocket.http.response.start', status: 401, headers: [[b('www-authenticate'), b('Bearer')]] },
  WebSocketResponseBodyEvent: { type: 'websocket.http.response.body', body: b('no'), more_body: false },
};
