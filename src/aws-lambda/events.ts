/**
 * A Lambda event as an ASGI HTTP scope and request body, per event kind: API Gateway REST (v1),
 * HTTP API payload 2.0 and Function URLs (v2), Application Load Balancer (with or without
 * multi-value headers).
 */
import type { Header, HTTPScope } from '../../generated/index.js';
import { decodePath } from '../http/target.js';
import type { ALBEvent, APIGatewayV1Event, APIGatewayV2Event } from './types.js';

export type EventKind = 'v1' | 'v2' | 'alb';

/** An event this adapter cannot read; the message says what was missing. */
export class LambdaEventError extends Error {
  override readonly name = 'LambdaEventError';
}

const ASGI = Object.freeze({ version: '3.0', spec_version: '2.5' }) as HTTPScope['asgi'];
const NO_EXTENSIONS: NonNullable<HTTPScope['extensions']> = Object.freeze({});
const EMPTY = new Uint8Array(0);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function eventKind(event: unknown): EventKind {
  if (!isObject(event)) throw new LambdaEventError(`expected an API Gateway, ALB or Function URL event object, got ${event === null ? 'null' : typeof event}`);
  const context = event['requestContext'];
  if (isObject(context) && isObject(context['elb'])) {
    if (typeof event['httpMethod'] !== 'string' || typeof event['path'] !== 'string') throw new LambdaEventError('ALB event without a string httpMethod and path');
    return 'alb';
  }
  if (event['version'] === '2.0' || (isObject(context) && isObject(context['http']))) {
    if (typeof event['rawPath'] !== 'string') throw new LambdaEventError('payload 2.0 event without a string rawPath');
    if (!isObject(context) || !isObject(context['http']) || typeof context['http']['method'] !== 'string') {
      throw new LambdaEventError('payload 2.0 event without requestContext.http.method');
    }
    return 'v2';
  }
  if (typeof event['httpMethod'] === 'string' && typeof event['path'] === 'string') return 'v1';
  const keys = Object.keys(event).slice(0, 8).join(', ');
  throw new LambdaEventError(`not an HTTP event tsgi can serve: no requestContext.elb, no version 2.0 rawPath, no httpMethod and path (keys: ${keys || 'none'})`);
}

const encoder = new TextEncoder();
const latin1 = (text: string) => Buffer.from(text, 'latin1');

/** Headers from a single-value map and, when given, a multi-value one (which wins: it has them all). */
function eventHeaders(single: Record<string, string | undefined> | null | undefined, multi: Record<string, string[] | undefined> | null | undefined): Header[] {
  const headers: Header[] = [];
  if (isObject(multi) && Object.keys(multi).length > 0) {
    for (const name in multi) {
      const values = multi[name];
      if (!Array.isArray(values)) continue;
      const lower = latin1(name.toLowerCase());
      for (const value of values) headers.push([lower, latin1(String(value))]);
    }
    return headers;
  }
  if (isObject(single)) {
    for (const name in single) {
      const value = single[name];
      if (value === undefined || value === null) continue;
      headers.push([latin1(name.toLowerCase()), latin1(String(value))]);
    }
  }
  return headers;
}

function headerValue(headers: readonly Header[], name: string): string | undefined {
  for (const [n, v] of headers) if (n.length === name.length && Buffer.from(n).toString('latin1') === name) return Buffer.from(v).toString('latin1');
  return undefined;
}

/** A query string from parsed parameters; API Gateway v1 hands them decoded, ALB as sent. */
function queryFrom(single: Record<string, string | undefined> | null | undefined, multi: Record<string, string[] | undefined> | null | undefined, encode: boolean): string {
  const parts: string[] = [];
  const e = encode ? encodeURIComponent : (s: string) => s;
  if (isObject(multi) && Object.keys(multi).length > 0) {
    for (const key in multi) for (const value of multi[key] ?? []) parts.push(`${e(key)}=${e(String(value))}`);
  } else if (isObject(single)) {
    for (const key in single) {
      const value = single[key];
      if (value !== undefined && value !== null) parts.push(`${e(key)}=${e(String(value))}`);
    }
  }
  return parts.join('&');
}

/** Strips a custom domain's base path mapping (`apiGatewayBasePath`), as Mangum's api_gateway_base_path. */
function stripBasePath(path: string, basePath: string): string {
  if (basePath === '' || basePath === '/') return path;
  const base = basePath.startsWith('/') ? basePath.replace(/\/+$/, '') : `/${basePath.replace(/\/+$/, '')}`;
  if (path === base) return '/';
  return path.startsWith(`${base}/`) ? path.slice(base.length) : path;
}

function httpVersion(protocol: string | undefined): HTTPScope['http_version'] {
  if (protocol === undefined) return '1.1';
  if (protocol.endsWith('/1.0')) return '1.0';
  if (protocol.endsWith('/2') || protocol.endsWith('/2.0')) return '2';
  return '1.1';
}

export interface LambdaRequest {
  scope: HTTPScope;
  body: Uint8Array;
}

export function eventRequest(event: unknown, kind: EventKind, basePath: string, rootPath = ''): LambdaRequest {
  let method: string;
  let rawPath: string;
  let decoded: boolean;
  let query: string;
  let headers: Header[];
  let client: [string, number] | null = null;
  let protocol: string | undefined;
  let body: string | null | undefined;
  let base64: boolean;
  if (kind === 'v2') {
    const e = event as APIGatewayV2Event;
    method = e.requestContext.http.method;
    rawPath = e.rawPath;
    decoded = false;
    query = e.rawQueryString ?? '';
    headers = eventHeaders(e.headers, undefined);
    // Payload 2.0 moves the Cookie header into `cookies`; it goes back as one header.
    if (Array.isArray(e.cookies) && e.cookies.length > 0) headers.push([latin1('cookie'), latin1(e.cookies.join('; '))]);
    if (typeof e.requestContext.http.sourceIp === 'string') client = [e.requestContext.http.sourceIp, 0];
    protocol = e.requestContext.http.protocol;
    body = e.body;
    base64 = e.isBase64Encoded === true;
  } else {
    const e = event as APIGatewayV1Event | ALBEvent;
    method = e.httpMethod;
    rawPath = e.path;
    // API Gateway v1 hands the path and the query decoded; an ALB passes both on as sent.
    decoded = kind === 'v1';
    query = queryFrom(e.queryStringParameters, e.multiValueQueryStringParameters, kind === 'v1');
    headers = eventHeaders(e.headers, e.multiValueHeaders);
    if (kind === 'v1') {
      const context = (e as APIGatewayV1Event).requestContext;
      const ip = context?.identity?.sourceIp;
      if (typeof ip === 'string') client = [ip, 0];
      protocol = context?.protocol;
    } else {
      // An ALB appends the address it saw to X-Forwarded-For: the last entry is the one it vouches for.
      const forwarded = headerValue(headers, 'x-forwarded-for');
      if (forwarded !== undefined) client = [forwarded.split(',').pop()!.trim(), 0];
    }
    body = e.body;
    base64 = e.isBase64Encoded === true;
  }
  if (typeof method !== 'string' || method === '') throw new LambdaEventError('event without an HTTP method');
  const path = stripBasePath(rawPath.startsWith('/') ? rawPath : `/${rawPath}`, basePath);

  const host = headerValue(headers, 'host') ?? (kind === 'v2' ? (event as APIGatewayV2Event).requestContext.domainName : undefined) ?? 'localhost';
  const proto = headerValue(headers, 'x-forwarded-proto');
  const scheme = proto === 'http' ? 'http' : 'https';
  const forwardedPort = Number(headerValue(headers, 'x-forwarded-port'));
  const port = Number.isInteger(forwardedPort) && forwardedPort > 0 ? forwardedPort : scheme === 'https' ? 443 : 80;
  if (headerValue(headers, 'host') === undefined) headers.unshift([latin1('host'), latin1(host)]);

  let bytes: Uint8Array = EMPTY;
  if (typeof body === 'string' && body.length > 0) bytes = base64 ? Buffer.from(body, 'base64') : encoder.encode(body);
  if (bytes.length > 0 && headerValue(headers, 'content-length') === undefined) headers.push([latin1('content-length'), latin1(String(bytes.length))]);

  const scope: HTTPScope = {
    type: 'http',
    asgi: ASGI,
    http_version: httpVersion(protocol),
    method: method.toUpperCase(),
    scheme,
    path: rootPath + (decoded ? path : decodePath(path)),
    raw_path: decoded ? null : latin1(path),
    query_string: latin1(query),
    root_path: rootPath,
    headers,
    client,
    server: [host.replace(/:\d+$/, ''), port],
    extensions: NO_EXTENSIONS,
  };
  return { scope, body: bytes };
}
