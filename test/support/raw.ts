/** Raw node:net conversations with a server, for tests where the bytes on the wire matter. */
import { connect, type Socket } from 'node:net';

export interface RawConnection {
  socket: Socket;
  /** Everything received so far, as latin-1. */
  received: () => string;
  closed: () => boolean;
  /** Resolves once what was received matches `pattern`, or the socket closed; rejects after `ms`. */
  until: (pattern: RegExp, ms?: number) => Promise<string>;
  /** Resolves when the server closed the connection; rejects after `ms`. */
  whenClosed: (ms?: number) => Promise<string>;
  write: (data: string | Uint8Array) => void;
}

export function rawConnect(port: number, options: { path?: string } = {}): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = options.path !== undefined ? connect(options.path) : connect(port, '127.0.0.1');
    let data = '';
    let isClosed = false;
    const waiters = new Set<() => void>();
    const poke = () => { for (const w of waiters) w(); };
    socket.on('data', (chunk: Buffer) => { data += chunk.toString('latin1'); poke(); });
    socket.on('error', () => {});
    socket.on('close', () => { isClosed = true; poke(); });
    const wait = (done: () => boolean, what: string, ms: number) => new Promise<string>((res, rej) => {
      const check = () => {
        if (!done()) return;
        waiters.delete(check);
        clearTimeout(timer);
        res(data);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        rej(new Error(`${what} within ${ms} ms; received so far: ${JSON.stringify(data)}${isClosed ? ' (closed)' : ''}`));
      }, ms);
      waiters.add(check);
      check();
    });
    socket.once('connect', () => resolve({
      socket,
      received: () => data,
      closed: () => isClosed,
      until: (pattern, ms = 5000) => wait(() => pattern.test(data) || isClosed, `no match for ${pattern}`, ms),
      whenClosed: (ms = 5000) => wait(() => isClosed, 'the server did not close the connection', ms),
      write: (chunk) => { socket.write(chunk); },
    }));
    socket.once('error', reject);
  });
}

/** Sends `bytes`, then collects everything until the server closes the connection. */
export async function exchange(port: number, bytes: string | Uint8Array, ms = 5000): Promise<string> {
  const conn = await rawConnect(port);
  conn.write(bytes);
  try {
    return await conn.whenClosed(ms);
  } finally {
    conn.socket.destroy();
  }
}

/** The status codes of the responses in `text`, in order. */
export function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
}
