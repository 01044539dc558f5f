/**
 * Behind a proxy: the client's address and scheme from `X-Forwarded-For` / `X-Forwarded-Proto`,
 * or RFC 7239 `Forwarded`, believed only when the peer that connected is trusted.
 *
 * Every proxy appends the address it received from, so a list reads client, proxy1, proxy2... and
 * only its right end is written by proxies we trust. As uvicorn's ProxyHeadersMiddleware does, the
 * client is the right-most address that is not trusted (the first hop whose word we cannot take
 * further); when every address is trusted, the left-most. When both header families are present,
 * only `X-Forwarded-*` is read: it is what nginx and most proxies set, and a proxy that sets one
 * family passes the other through from the client untouched, where a client could forge it.
 */
import { BlockList, isIP } from 'node:net';

export class ProxyTrust {
  readonly all: boolean;
  private readonly list = new BlockList();
  private readonly literals = new Set<string>();

  /** `allow`: addresses, CIDR ranges (`10.0.0.0/8`, `fd00::/8`), or `'*'` (alone or in the list) to trust every peer. */
  constructor(allow: readonly string[] | '*') {
    this.all = allow === '*' || allow.includes('*');
    if (this.all) return;
    for (const raw of allow as readonly string[]) {
      const entry = raw.trim();
      const slash = entry.indexOf('/');
      const address = slash === -1 ? entry : entry.slice(0, slash);
      const family = isIP(address);
      if (family === 0) {
        this.literals.add(entry);
      } else if (slash === -1) {
        this.list.addAddress(address, family === 4 ? 'ipv4' : 'ipv6');
      } else {
        const prefix = Number(entry.slice(slash + 1));
        if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) throw new TypeError(`forwardedAllowIps: invalid CIDR range ${JSON.stringify(raw)}`);
        this.list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
      }
    }
  }

  /** Whether `host` (an address, or a proxy's literal such as `unknown`) is trusted. */
  trusts(host: string | undefined): boolean {
    if (this.all) return true;
    if (host === undefined || host === '') return false;
    const address = host.startsWith('::ffff:') && isIP(host.slice(7)) === 4 ? host.slice(7) : host;
    const family = isIP(address);
    if (family === 0) return this.literals.has(host);
    return this.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}

export interface Forwarded {
  /** The client's `[host, port]`, when a header named one (port 0 when it did not say). */
  client?: [string, number];
  scheme?: 'http' | 'https';
}

/** `host`, `host:port`, `[v6]`, `[v6]:port`, or a bare IPv6 address, into host and port. */
export function splitHostPort(node: string): [string, number] {
  if (node.startsWith('[')) {
    const close = node.indexOf(']');
    if (close !== -1) {
      const port = node.startsWith(':', close + 1) ? Number(node.slice(close + 2)) : 0;
      return [node.slice(1, close), Number.isInteger(port) && port >= 0 && port <= 65535 ? port : 0];
    }
  }
  const colon = node.lastIndexOf(':');
  if (colon !== -1 && node.indexOf(':') === colon) {
    const port = Number(node.slice(colon + 1));
    if (Number.isInteger(port) && port >= 0 && port <= 65535) return [node.slice(0, colon), port];
  }
  return [node, 0];
}

function scheme(value: string | undefined): 'http' | 'https' | undefined {
  const proto = value?.trim().toLowerCase();
  return proto === 'http' || proto === 'https' ? proto : undefined;
}

/** The index of the client in a hop list: the right-most untrusted host, else the left-most. */
function clientIndex(hosts: readonly string[], trust: ProxyTrust): number {
  if (trust.all) return 0;
  for (let i = hosts.length - 1; i >= 0; i--) if (!trust.trusts(hosts[i])) return i;
  return 0;
}

/** `X-Forwarded-For` (and `-Proto`), already joined with commas when repeated. */
export function fromXForwarded(forwardedFor: string | undefined, forwardedProto: string | undefined, trust: ProxyTrust): Forwarded {
  const result: Forwarded = {};
  const hosts = forwardedFor === undefined ? [] : forwardedFor.split(',').map((h) => h.trim());
  const index = clientIndex(hosts, trust);
  if (hosts.length > 0 && hosts[index] !== '') result.client = splitHostPort(hosts[index]!);
  if (forwardedProto !== undefined) {
    // Proxies that append protocols too line up with the addresses; otherwise the nearest wins.
    const protos = forwardedProto.split(',');
    const proto = scheme(protos.length === hosts.length ? protos[index] : protos[protos.length - 1]);
    if (proto !== undefined) result.scheme = proto;
  }
  return result;
}

/** One `Forwarded` element's parameters (`for`, `proto`, ...), lower-cased names, quotes removed. */
function parseElement(element: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const pair of element.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    params.set(pair.slice(0, eq).trim().toLowerCase(), value);
  }
  return params;
}

/** RFC 7239 `Forwarded`, already joined with commas when repeated. Quoted commas are not expected in `for`/`proto`. */
export function fromForwarded(header: string, trust: ProxyTrust): Forwarded {
  const elements = header.split(',').map(parseElement);
  const hosts = elements.map((e) => {
    const node = e.get('for');
    return node === undefined ? '' : splitHostPort(node)[0];
  });
  const index = clientIndex(hosts, trust);
  const element = elements[index];
  const result: Forwarded = {};
  const node = element?.get('for');
  if (node !== undefined && node !== '') result.client = splitHostPort(node);
  const proto = scheme(element?.get('proto'));
  if (proto !== undefined) result.scheme = proto;
  return result;
}

type Headers = Record<string, string | string[] | undefined>;

/** What the proxy headers of a request from `peer` say, or an empty result when the peer is not trusted. */
export function forwardedFrom(peer: string | undefined, headers: Headers, trust: ProxyTrust, peerIsLocalSocket = false): Forwarded {
  if (!peerIsLocalSocket && !trust.trusts(peer)) return {};
  const xff = headers['x-forwarded-for'] as string | undefined;
  const xfp = headers['x-forwarded-proto'] as string | undefined;
  const forwarded = headers.forwarded as string | undefined;
  if (xff !== undefined || xfp !== undefined) return fromXForwarded(xff, xfp, trust);
  return forwarded !== undefined ? fromForwarded(forwarded, trust) : {};
}
