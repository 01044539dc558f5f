/** proxyHeaders and forwardedAllowIps: the unit rules, then the scope a real request gets. */
import { jest } from '@jest/globals';
import { request } from 'node:http';
import type { HTTPScope } from '../../src/index.js';
import { forwardedFrom, fromForwarded, fromXForwarded, ProxyTrust, splitHostPort } from '../../src/node/proxy.js';
import { bytes, closeServers, startServer } from '../support/serving.js';
import type { ServeOptions } from '../../src/node/index.js';

jest.setTimeout(20_000);
afterEach(closeServers);

describe('ProxyTrust', () => {
  test('addresses, CIDR ranges of both families, and IPv4-mapped IPv6 peers', () => {
    const trust = new ProxyTrust(['127.0.0.1', '10.0.0.0/8', 'fd00::/8', '::1']);
    expect(trust.trusts('127.0.0.1')).toBe(true);
    expect(trust.trusts('::ffff:127.0.0.1')).toBe(true);
    expect(trust.trusts('10.200.3.4')).toBe(true);
    expect(trust.trusts('11.0.0.1')).toBe(false);
    expect(trust.trusts('fd12::5')).toBe(true);
    expect(trust.trusts('fe80::1')).toBe(false);
    expect(trust.trusts('::1')).toBe(true);
    expect(trust.trusts(undefined)).toBe(false);
    expect(trust.trusts('unknown')).toBe(false);
  });

  test("'*' trusts everyone; a bad range is refused at once", () => {
    expect(new ProxyTrust('*').trusts('203.0.113.9')).toBe(true);
    expect(new ProxyTrust(['*']).trusts('203.0.113.9')).toBe(true);
    expect(() => new ProxyTrust(['10.0.0.0/33'])).toThrow(/invalid CIDR/);
  });
});

describe('X-Forwarded-For / X-Forwarded-Proto', () => {
  const trust = new ProxyTrust(['127.0.0.1', '10.0.0.0/8']);

  test('the right-most untrusted address is the client, as uvicorn takes it', () => {
    expect(fromXForwarded('203.0.113.7', undefined, trust).client).toEqual(['203.0.113.7', 0]);
    // A spoofed left part is ignored: the trusted proxies' right part says who connected.
    expect(fromXForwarded('1.2.3.4, 203.0.113.7, 10.0.0.2', undefined, trust).client).toEqual(['203.0.113.7', 0]);
    // Every hop trusted: the left-most.
    expect(fromXForwarded('10.1.1.1, 10.0.0.2', undefined, trust).client).toEqual(['10.1.1.1', 0]);
  });

  test('ports and IPv6 forms', () => {
    expect(splitHostPort('203.0.113.7:4711')).toEqual(['203.0.113.7', 4711]);
    expect(splitHostPort('[2001:db8::1]:4711')).toEqual(['2001:db8::1', 4711]);
    expect(splitHostPort('2001:db8::1')).toEqual(['2001:db8::1', 0]);
    expect(fromXForwarded('[2001:db8::1]:80', undefined, trust).client).toEqual(['2001:db8::1', 80]);
  });

  test('the scheme: http or https only; a list lines up with the addresses, else the nearest proxy wins', () => {
    expect(fromXForwarded(undefined, 'https', trust).scheme).toBe('https');
    expect(fromXForwarded(undefined, 'HTTPS ', trust).scheme).toBe('https');
    expect(fromXForwarded(undefined, 'gopher', trust).scheme).toBeUndefined();
    expect(fromXForwarded('203.0.113.7, 10.0.0.2', 'https, http', trust)).toEqual({ client: ['203.0.113.7', 0], scheme: 'https' });
    expect(fromXForwarded('203.0.113.7, 10.0.0.2', 'http, https, https', trust).scheme).toBe('https');
  });

  test('an empty header changes nothing', () => {
    expect(fromXForwarded('', undefined, trust)).toEqual({});
  });
});

describe('RFC 7239 Forwarded', () => {
  const trust = new ProxyTrust(['127.0.0.1', '10.0.0.0/8']);

  test('for and proto of the right-most untrusted hop, quoted forms included', () => {
    expect(fromForwarded('for=192.0.2.60;proto=https;by=203.0.113.43', trust)).toEqual({ client: ['192.0.2.60', 0], scheme: 'https' });
    expect(fromForwarded('for=1.2.3.4;proto=http, for="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.3', trust))
      .toEqual({ client: ['2001:db8:cafe::17', 4711], scheme: 'https' });
    expect(fromForwarded('For="192.0.2.43:47011"', trust).client).toEqual(['192.0.2.43', 47011]);
  });

  test('X-Forwarded-* wins when both are present', () => {
    const headers = { 'x-forwarded-for': '198.51.100.1', forwarded: 'for=192.0.2.60;proto=https' };
    expect(forwardedFrom('127.0.0.1', headers, trust)).toEqual({ client: ['198.51.100.1', 0] });
    expect(forwardedFrom('127.0.0.1', { forwarded: 'for=192.0.2.60;proto=https' }, trust)).toEqual({ client: ['192.0.2.60', 0], scheme: 'https' });
  });

  test('an untrusted peer gets nothing from either', () => {
    expect(forwardedFrom('198.51.100.9', { 'x-forwarded-for': '1.2.3.4', 'x-forwarded-proto': 'https', forwarded: 'for=5.6.7.8' }, trust)).toEqual({});
  });
});

describe('over a socket', () => {
  async function scopeFor(options: ServeOptions, headers: Record<string, string>): Promise<HTTPScope> {
    let seen: HTTPScope | undefined;
    const server = await startServer(async (scope, _receive, send) => {
      seen = scope as HTTPScope;
      await send({ type: 'http.response.start', status: 204, headers: [] });
      await send({ type: 'http.response.body', body: bytes('') });
    }, options);
    await new Promise<void>((resolve, reject) => {
      request(`${server.url}/`, { headers }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject).end();
    });
    return seen!;
  }
  const spoof = { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' };

  test('a trusted peer (127.0.0.1): client and scheme come from the headers', async () => {
    const scope = await scopeFor({ proxyHeaders: true }, spoof);
    expect(scope.client).toEqual(['203.0.113.7', 0]);
    expect(scope.scheme).toBe('https');
  });

  test('a trusted peer by CIDR, with Forwarded', async () => {
    const scope = await scopeFor({ proxyHeaders: true, forwardedAllowIps: ['127.0.0.0/8'] }, { forwarded: 'for=198.51.100.3;proto=https' });
    expect(scope.client).toEqual(['198.51.100.3', 0]);
    expect(scope.scheme).toBe('https');
  });

  test.each([[['127.0.0.2']], [['10.0.0.0/8']]])('an untrusted peer (trusting only %j): the spoofed headers change nothing', async (allow) => {
    const scope = await scopeFor({ proxyHeaders: true, forwardedAllowIps: allow }, spoof);
    expect(scope.client?.[0]).toBe('127.0.0.1');
    expect(scope.client?.[1]).toBeGreaterThan(0);
    expect(scope.scheme).toBe('http');
  });

  test('proxyHeaders off (the default): the headers change nothing, even from 127.0.0.1', async () => {
    const scope = await scopeFor({}, spoof);
    expect(scope.client?.[0]).toBe('127.0.0.1');
    expect(scope.scheme).toBe('http');
  });
});
