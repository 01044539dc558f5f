/** The URL a server handle reports, the same from a single process and from a cluster's primary. */

/**
 * `http://host:port`, an IPv6 host in brackets; on a unix socket `http+unix://` with the socket's
 * path percent-encoded as the authority (`http+unix://%2Ftmp%2Fapp.sock`).
 */
export function serverUrl(host: string, port: number, path?: string): string {
  if (path !== undefined) return `http+unix://${encodeURIComponent(path)}`;
  return `http://${host.includes(':') ? `[${host}]` : host}:${String(port)}`;
}
