/** tsgi/aws-lambda with the documented sample events of each kind (fixtures/), and malformed ones. */
import type {
  ALBEvent as AwsALBEvent,
  ALBResult as AwsALBResult,
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  APIGatewayProxyResult,
  APIGatewayProxyStructuredResultV2,
  LambdaFunctionURLEvent,
  LambdaFunctionURLResult,
} from 'aws-lambda';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { handler, LambdaEventError, type LambdaLogger } from '../../src/aws-lambda/index.js';
import { PlainTextResponse, toFetchHandler, type ASGIApp, type HTTPScope, type Logger, type Scope } from '../../src/index.js';
import { repoRoot } from '../support/run.js';

const fixture = <T>(name: string): T => JSON.parse(readFileSync(join(repoRoot, 'test', 'aws-lambda', 'fixtures', `${name}.json`), 'utf8')) as T;
const text = (bytes: Uint8Array | null | undefined) => (bytes == null ? null : Buffer.from(bytes).toString('latin1'));
const enc = (s: string) => Buffer.from(s, 'latin1');

function quietLogger() {
  const lines: string[] = [];
  const logger: LambdaLogger = {
    error: (m, e) => lines.push(`error: ${m}${e === undefined ? '' : ` ${String(e)}`}`),
    warn: (m) => lines.push(`warn: ${m}`),
    info: (m) => lines.push(`info: ${m}`),
  };
  return { logger, lines };
}

/** Records the scope and body; answers with the body echoed in the content type asked, and two cookies. */
function echo() {
  const seen: { scope?: HTTPScope; body?: Buffer } = {};
  const app: ASGIApp = async (scope, receive, send) => {
    if (scope.type !== 'http') return;
    seen.scope = scope;
    const chunks: Uint8Array[] = [];
    for (;;) {
      const message = await receive();
      if (message.type !== 'http.request') break;
      chunks.push(message.body ?? new Uint8Array());
      if (message.more_body !== true) break;
    }
    seen.body = Buffer.concat(chunks);
    const type = scope.headers.find(([n]) => text(n) === 'content-type');
    await send({
      type: 'http.response.start',
      status: 201,
      headers: [
        [enc('content-type'), type?.[1] ?? enc('text/plain')],
        [enc('set-cookie'), enc('a=1; Path=/')],
        [enc('set-cookie'), enc('b=2; Path=/')],
        [enc('x-single'), enc('one')],
      ],
    });
    await send({ type: 'http.response.body', body: seen.body, more_body: true });
    await send({ type: 'http.response.body', body: new Uint8Array() });
  };
  return { app, seen };
}

const headerList = (scope: HTTPScope) => scope.headers.map(([n, v]) => `${text(n)}: ${text(v)}`);

describe('API Gateway REST (v1)', () => {
  test('scope from the sample event, base path stripped, and the result with multi-value headers', async () => {
    const { app, seen } = echo();
    const lambda = handler(app, { apiGatewayBasePath: '/prod-api', lifespan: 'off' });
    const event = fixture<APIGatewayProxyEvent>('api-gateway-v1');
    const result: APIGatewayProxyResult = await lambda(event);
    const scope = seen.scope!;
    expect(scope.method).toBe('POST');
    expect(scope.path).toBe('/items/café');
    expect(scope.raw_path).toBeNull();
    expect(scope.root_path).toBe('');
    expect(text(scope.query_string)).toBe('tag=a&tag=b&q=a%20b%26c');
    expect(scope.scheme).toBe('https');
    expect(scope.http_version).toBe('1.1');
    expect(scope.client).toEqual(['198.51.100.7', 0]);
    expect(scope.server).toEqual(['api.example.com', 443]);
    expect(headerList(scope)).toEqual(expect.arrayContaining(['x-multi: first', 'x-multi: second', 'cookie: session=abc; theme=dark', 'host: api.example.com', 'content-length: 19']));
    expect(seen.body!.toString()).toBe('{"name":"espresso"}');

    expect(result.statusCode).toBe(201);
    expect(result.headers).toEqual({ 'content-type': 'application/json', 'x-single': 'one' });
    expect(result.multiValueHeaders).toEqual({ 'set-cookie': ['a=1; Path=/', 'b=2; Path=/'] });
    expect(result.isBase64Encoded).toBe(false);
    expect(result.body).toBe('{"name":"espresso"}');
  });

  test('without a base path the path is whole; a base64 body is decoded', async () => {
    const { app, seen } = echo();
    const event = { ...fixture<APIGatewayProxyEvent>('api-gateway-v1'), body: Buffer.from([0, 255, 1]).toString('base64'), isBase64Encoded: true };
    event.multiValueHeaders = { 'Content-Type': ['image/png'] };
    const result = await handler(app, { lifespan: 'off' })(event);
    expect(seen.scope!.path).toBe('/prod-api/items/café');
    expect([...seen.body!]).toEqual([0, 255, 1]);
    expect(result.isBase64Encoded).toBe(true);
    expect(result.body).toBe(Buffer.from([0, 255, 1]).toString('base64'));
  });
});

describe('API Gateway HTTP API (v2) and Function URLs', () => {
  test('scope from the sample event: raw path decoded, raw query, cookies back in one header; cookies in the result', async () => {
    const { app, seen } = echo();
    const event = fixture<APIGatewayProxyEventV2>('api-gateway-v2');
    const result: APIGatewayProxyStructuredResultV2 = await handler(app, { apiGatewayBasePath: 'prod-api/', lifespan: 'off' })(event);
    const scope = seen.scope!;
    expect(scope.method).toBe('POST');
    expect(scope.path).toBe('/my/path here');
    expect(text(scope.raw_path)).toBe('/my/path%20here');
    expect(text(scope.query_string)).toBe('parameter1=value1&parameter1=value2&parameter2=value');
    expect(headerList(scope)).toEqual(expect.arrayContaining(['cookie: cookie1=one; cookie2=two', 'header2: value1,value2', 'host: id.execute-api.us-east-1.amazonaws.com']));
    expect(scope.client).toEqual(['203.0.113.10', 0]);
    expect(seen.body!.toString()).toBe('Hello from Lambda');
    expect(result).toEqual({
      statusCode: 201,
      headers: { 'content-type': 'text/plain', 'x-single': 'one' },
      cookies: ['a=1; Path=/', 'b=2; Path=/'],
      body: 'Hello from Lambda',
      isBase64Encoded: false,
    });
  });

  test('a Function URL event with a binary body, both ways in base64', async () => {
    const { app, seen } = echo();
    const event = fixture<LambdaFunctionURLEvent>('function-url');
    const result: LambdaFunctionURLResult = await handler(app, { lifespan: 'off' })(event);
    expect(seen.scope!.method).toBe('PUT');
    expect(seen.scope!.server).toEqual(['abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-west-2.on.aws', 443]);
    expect([...seen.body!]).toEqual([0, 1, 2, 3, 254, 255, 128]);
    expect(result).toMatchObject({ statusCode: 201, isBase64Encoded: true, body: 'AAECA/7/gA==' });
  });
});

describe('Application Load Balancer', () => {
  test('single-value headers: path decoded, query as sent, client from X-Forwarded-For, cookies under differently cased names', async () => {
    const { app, seen } = echo();
    const result: AwsALBResult = await handler(app, { lifespan: 'off' })(fixture<AwsALBEvent>('alb'));
    const scope = seen.scope!;
    expect(scope.method).toBe('GET');
    expect(scope.path).toBe('/lambda/café');
    expect(text(scope.raw_path)).toBe('/lambda/caf%C3%A9');
    expect(text(scope.query_string)).toBe('query=1234ABCD&enc=%3FshowAll%3Dtrue');
    expect(scope.scheme).toBe('http');
    expect(scope.server).toEqual(['lambda-alb-123578498.us-east-2.elb.amazonaws.com', 80]);
    expect(scope.client).toEqual(['72.21.198.66', 0]);
    expect(result.statusCode).toBe(201);
    expect(result.statusDescription).toBe('201 Created');
    expect(result.multiValueHeaders).toBeUndefined();
    const cookies = Object.entries(result.headers!).filter(([n]) => n.toLowerCase() === 'set-cookie');
    expect(cookies.map(([, v]) => v).sort()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(new Set(cookies.map(([n]) => n)).size).toBe(2);
    expect(result.body).toBe('request_body');
  });

  test('multi-value headers: every header and query value kept, the result in multiValueHeaders only', async () => {
    const { app, seen } = echo();
    const result = await handler(app, { lifespan: 'off' })(fixture<AwsALBEvent>('alb-multi-value'));
    const scope = seen.scope!;
    expect(text(scope.query_string)).toBe('myKey=val1&myKey=val2&myOtherKey=val3');
    expect(headerList(scope)).toEqual(expect.arrayContaining(['cookie: name1=value1', 'cookie: name2=value2']));
    expect([...seen.body!]).toEqual([0xde, 0xad, 0xbe, 0xef]);
    expect(result.headers).toBeUndefined();
    expect(result.multiValueHeaders).toEqual({ 'content-type': ['application/octet-stream'], 'set-cookie': ['a=1; Path=/', 'b=2; Path=/'], 'x-single': ['one'] });
    expect(result).toMatchObject({ statusCode: 201, statusDescription: '201 Created', isBase64Encoded: true, body: '3q2+7w==' });
  });
});

describe('text or base64', () => {
  function answering(contentType: string, body: Uint8Array, encoding?: string): ASGIApp {
    return async (_scope, _receive, send) => {
      const headers: [Uint8Array, Uint8Array][] = [[enc('content-type'), enc(contentType)]];
      if (encoding !== undefined) headers.push([enc('content-encoding'), enc(encoding)]);
      await send({ type: 'http.response.start', status: 200, headers });
      await send({ type: 'http.response.body', body });
    };
  }
  const event = () => fixture<APIGatewayProxyEventV2>('api-gateway-v2');

  test.each([
    ['application/json; charset=utf-8', undefined, false],
    ['application/problem+json', undefined, false],
    ['image/svg+xml', undefined, false],
    ['text/html', 'gzip', true],
    ['application/octet-stream', undefined, true],
    ['application/x-custom', undefined, true],
  ])('%s with content-encoding %s: base64 %s', async (type, encoding, base64) => {
    const body = Buffer.from('{"a":"é"}');
    const result = await handler(answering(type, body, encoding), { lifespan: 'off', validate: false })(event());
    expect(result.isBase64Encoded).toBe(base64);
    expect(base64 ? Buffer.from(result.body, 'base64').toString() : result.body).toBe('{"a":"é"}');
  });

  test('textMimeTypes adds text types; text that is not UTF-8 still goes as base64', async () => {
    const custom = await handler(answering('application/x-custom', Buffer.from('plain')), { lifespan: 'off', textMimeTypes: ['application/x-custom'] })(event());
    expect(custom).toMatchObject({ body: 'plain', isBase64Encoded: false });
    const broken = await handler(answering('text/plain', Uint8Array.of(0xff, 0xfe)), { lifespan: 'off' })(event());
    expect(broken).toMatchObject({ body: '//4=', isBase64Encoded: true });
  });
});

describe('lifespan, once per container', () => {
  test('startup on the first invocation only; its state reaches every request; shutdown()', async () => {
    const events: string[] = [];
    const app: ASGIApp = async (scope: Scope, receive, send) => {
      if (scope.type === 'lifespan') {
        for (;;) {
          const message = await receive();
          events.push(message.type);
          if (message.type === 'lifespan.startup') {
            scope.state!['count'] = 'ready';
            await send({ type: 'lifespan.startup.complete' });
          } else {
            await send({ type: 'lifespan.shutdown.complete' });
            return;
          }
        }
      }
      if (scope.type === 'http') await new PlainTextResponse(String(scope.state?.['count']))(scope, receive, send);
    };
    const before = new Set(process.listeners('SIGTERM'));
    const lambda = handler(app);
    const event = fixture<APIGatewayProxyEventV2>('api-gateway-v2');
    const results = await Promise.all([lambda(event), lambda(event)]);
    expect((await lambda(event)).body).toBe('ready');
    expect(results.map((r) => r.body)).toEqual(['ready', 'ready']);
    expect(events).toEqual(['lifespan.startup']);
    await lambda.shutdown();
    expect(events).toEqual(['lifespan.startup', 'lifespan.shutdown']);
    // The container's shutdown hook was installed; take it out again (this is one jest worker).
    const added = process.listeners('SIGTERM').filter((l) => !before.has(l));
    expect(added).toHaveLength(1);
    for (const listener of added) process.off('SIGTERM', listener);
  });

  test("'on' with an app that does not speak lifespan fails the invocation; 'auto' serves it", async () => {
    const app: ASGIApp = async (scope, receive, send) => {
      if (scope.type !== 'http') throw new Error('no lifespan here');
      await new PlainTextResponse('ok')(scope, receive, send);
    };
    const event = fixture<APIGatewayProxyEventV2>('api-gateway-v2');
    await expect(handler(app, { lifespan: 'on', logger: quietLogger().logger })(event)).rejects.toThrow(/lifespan startup failed/);
    expect((await handler(app, { logger: quietLogger().logger })(event)).body).toBe('ok');
  });
});

describe('failures', () => {
  test.each([
    ['null', null, /got null/],
    ['a string', 'GET /', /got string/],
    ['an SQS event', { Records: [{ eventSource: 'aws:sqs', body: 'x' }] }, /not an HTTP event.*keys: Records/],
    ['payload 2.0 without rawPath', { version: '2.0', requestContext: { http: { method: 'GET' } } }, /without a string rawPath/],
    ['payload 2.0 without a method', { version: '2.0', rawPath: '/', requestContext: {} }, /requestContext.http.method/],
    ['an ALB event without a path', { httpMethod: 'GET', requestContext: { elb: {} } }, /ALB event without/],
  ])('%s is a LambdaEventError that says what is wrong', async (_name, event, message) => {
    const lambda = handler(new PlainTextResponse('never'), { lifespan: 'off' });
    const call = lambda(event as never);
    await expect(call).rejects.toBeInstanceOf(LambdaEventError);
    await expect(call).rejects.toThrow(message);
  });

  test('an app that throws, or returns without a response, is a logged 500', async () => {
    const log = quietLogger();
    const event = fixture<APIGatewayProxyEventV2>('api-gateway-v2');
    const throwing = await handler(async () => { throw new Error('kaput'); }, { lifespan: 'off', logger: log.logger })(event);
    expect(throwing).toMatchObject({ statusCode: 500, body: 'Internal Server Error' });
    const silent = await handler(async () => {}, { lifespan: 'off', validate: false, logger: log.logger })(event);
    expect(silent).toMatchObject({ statusCode: 500 });
    expect(log.lines[0]).toMatch(/Exception in ASGI application, "POST \/prod-api\/my\/path here" Error: kaput/);
    expect(log.lines[1]).toMatch(/returned without starting its response/);
  });
});

describe('every event kind: a binary body, cookies both ways, a base path', () => {
  const kinds: [string, string][] = [
    ['REST (v1)', 'api-gateway-v1'],
    ['HTTP API payload 1.0', 'api-gateway-v1'],
    ['HTTP API (v2)', 'api-gateway-v2'],
    ['Function URL', 'function-url'],
    ['ALB', 'alb'],
    ['ALB, multi-value', 'alb-multi-value'],
  ];
  test.each(kinds)('%s', async (kind, name) => {
    const event = fixture<Record<string, unknown>>(name);
    const binary = Uint8Array.of(0, 0x80, 0xff, 0x10);
    event['body'] = Buffer.from(binary).toString('base64');
    event['isBase64Encoded'] = true;
    if (kind === 'HTTP API payload 1.0') event['version'] = '1.0';
    const v2 = 'rawPath' in event;
    if (v2) {
      event['rawPath'] = '/base/thing';
      event['cookies'] = ['k1=v1', 'k2=v2'];
      event['headers'] = { ...(event['headers'] as object), 'content-type': 'application/octet-stream' };
    } else {
      event['path'] = '/base/thing';
      event['headers'] = { host: 'example.org', 'content-type': 'application/octet-stream', cookie: 'k1=v1; k2=v2' };
      if (event['multiValueHeaders'] !== undefined) {
        event['multiValueHeaders'] = { host: ['example.org'], 'content-type': ['application/octet-stream'], cookie: ['k1=v1; k2=v2'] };
      }
    }
    const { app, seen } = echo();
    const result = await handler(app, { apiGatewayBasePath: '/base', lifespan: 'off' })(event as never);
    expect(seen.scope!.path).toBe('/thing');
    expect([...seen.body!]).toEqual([...binary]);
    expect(headerList(seen.scope!)).toContain('cookie: k1=v1; k2=v2');
    expect(result.isBase64Encoded).toBe(true);
    expect([...Buffer.from(result.body, 'base64')]).toEqual([...binary]);
    const r = result as { headers?: Record<string, string>; multiValueHeaders?: Record<string, string[]>; cookies?: string[] };
    const cookies = [
      ...(r.cookies ?? []),
      ...(r.multiValueHeaders?.['set-cookie'] ?? []),
      ...Object.entries(r.headers ?? {}).filter(([n]) => n.toLowerCase() === 'set-cookie').map(([, v]) => v),
    ];
    expect(cookies.sort()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
  });
});

describe('rootPath, as serve has it: scope.root_path, and scope.path starting with it', () => {
  test.each(['api-gateway-v1', 'api-gateway-v2', 'function-url', 'alb'])('%s', async (name) => {
    const event = fixture<Record<string, unknown>>(name);
    if ('rawPath' in event) event['rawPath'] = '/base/th%C3%ADng';
    else event['path'] = name === 'alb' ? '/base/th%C3%ADng' : '/base/thíng';
    const { app, seen } = echo();
    await handler(app, { apiGatewayBasePath: '/base', rootPath: '/mounted', lifespan: 'off' })(event as never);
    expect(seen.scope!.root_path).toBe('/mounted');
    expect(seen.scope!.path).toBe('/mounted/thíng');
  });
});

test('one Logger, exported by tsgi, serves the Lambda and fetch adapters alike (their own names are that type)', async () => {
  const lines: string[] = [];
  const logger: Logger = { error: (m) => lines.push(m), warn: (m) => lines.push(m), info: (m) => lines.push(m) };
  const asLambda: LambdaLogger = logger;
  const failing: ASGIApp = async () => {
    throw new Error('boom');
  };
  expect((await handler(failing, { lifespan: 'off', logger: asLambda })(fixture<APIGatewayProxyEvent>('api-gateway-v1'))).statusCode).toBe(500);
  expect((await toFetchHandler(failing, { lifespan: 'off', logger }).fetch(new Request('http://h/'))).status).toBe(500);
  expect(lines.filter((line) => line.startsWith('Exception in ASGI application'))).toHaveLength(2);
});

test('the published types stand without @types/aws-lambda: no source in src/aws-lambda imports it', () => {
  const dir = join(repoRoot, 'src', 'aws-lambda');
  for (const file of readdirSync(dir)) {
    expect(readFileSync(join(dir, file), 'utf8')).not.toMatch(/from ['"]aws-lambda['"]|types=["']aws-lambda/);
  }
});
