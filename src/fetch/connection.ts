/**
 * Who is on the other end of a fetch request. The fetch API itself does not say; each runtime
 * hands it beside the `Request` in its own way, and this reads the common ones by shape, so the
 * core imports no runtime.
 */

/** `[host, port]`, as in `scope.client`. */
export type Address = [string, number];

interface DenoInfo { remoteAddr?: { hostname?: unknown; port?: unknown } }
interface BunServer { requestIP?: (request: Request) => { address?: unknown; port?: unknown } | null }
interface NodeSocket { remoteAddress?: unknown; remotePort?: unknown }
interface NodeEnv { incoming?: { socket?: NodeSocket; rawHeaders?: unknown } }
interface SrvxRequest { ip?: unknown; runtime?: { node?: { req?: { socket?: NodeSocket; rawHeaders?: unknown } } } }

function socketAddress(socket: NodeSocket | undefined): Address | null {
  return socket !== undefined && typeof socket.remoteAddress === 'string'
    ? [socket.remoteAddress, typeof socket.remotePort === 'number' ? socket.remotePort : 0]
    : null;
}

/**
 * The client address the runtime reports, or null:
 * - Deno: `Deno.serve`'s second argument, `info.remoteAddr`;
 * - Bun: `Bun.serve`'s second argument, the server, through `server.requestIP(request)`;
 * - @hono/node-server: its second argument, `{ incoming }`, the node:http request's socket;
 * - srvx: the request itself, `request.runtime.node.req` on Node, else `request.ip`.
 * Cloudflare Workers say nothing here (the `CF-Connecting-IP` header is theirs to set; read it with
 * the `client` option).
 */
export function runtimeClient(request: Request, info: unknown): Address | null {
  if (typeof info === 'object' && info !== null) {
    const deno = (info as DenoInfo).remoteAddr;
    if (deno !== undefined && typeof deno.hostname === 'string') return [deno.hostname, typeof deno.port === 'number' ? deno.port : 0];
    const bun = (info as BunServer).requestIP;
    if (typeof bun === 'function') {
      const ip = bun.call(info, request);
      return ip !== null && typeof ip.address === 'string' ? [ip.address, typeof ip.port === 'number' ? ip.port : 0] : null;
    }
    const incoming = (info as NodeEnv).incoming;
    if (incoming !== undefined) return socketAddress(incoming.socket);
  }
  const srvx = request as SrvxRequest;
  const node = srvx.runtime?.node?.req;
  if (node !== undefined) return socketAddress(node.socket);
  return typeof srvx.ip === 'string' ? [srvx.ip, 0] : null;
}

/**
 * The header list as it came off the wire, when the runtime is a Node server that hands over its
 * `IncomingMessage` (@hono/node-server's `incoming`, srvx's `request.runtime.node.req`): names and
 * values alternating, in order, duplicates apart. Reading it spares building a `Headers` object
 * and keeps what `Headers` loses. Undefined elsewhere.
 */
export function nodeRawHeaders(request: Request, info: unknown): string[] | undefined {
  const raw = typeof info === 'object' && info !== null && (info as NodeEnv).incoming !== undefined
    ? (info as NodeEnv).incoming!.rawHeaders
    : (request as SrvxRequest).runtime?.node?.req?.rawHeaders;
  return Array.isArray(raw) ? (raw as string[]) : undefined;
}
