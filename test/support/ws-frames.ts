/**
 * A raw RFC 6455 client over node:net, for the conformance run: it writes frames exactly as told
 * (any bits, any opcode, masked or not, chopped into pieces) and reads the server's frames as
 * they arrive, so that what a server does with a bad frame is seen on the wire.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

export const OP = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

export interface FrameSpec {
  opcode: number;
  payload?: Uint8Array | string;
  /** Default true. */
  fin?: boolean;
  /** RSV1..RSV3 as a 3-bit number (4 = RSV1). */
  rsv?: number;
  /** Default: a random key. false sends the frame unmasked, which servers must refuse. */
  mask?: boolean | Uint8Array;
}

export interface Frame {
  fin: boolean;
  rsv: number;
  opcode: number;
  payload: Buffer;
}

export function encodeFrame(spec: FrameSpec): Buffer {
  const payload = typeof spec.payload === 'string' ? Buffer.from(spec.payload) : Buffer.from(spec.payload ?? new Uint8Array());
  const key = spec.mask === false ? undefined : spec.mask === true || spec.mask === undefined ? randomBytes(4) : Buffer.from(spec.mask);
  const length = payload.length;
  const extra = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const head = Buffer.alloc(2 + extra + (key ? 4 : 0));
  head[0] = ((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | spec.opcode;
  head[1] = (key ? 0x80 : 0) | (extra === 0 ? length : extra === 2 ? 126 : 127);
  if (extra === 2) head.writeUInt16BE(length, 2);
  if (extra === 8) head.writeBigUInt64BE(BigInt(length), 2);
  if (!key) return Buffer.concat([head, payload]);
  key.copy(head, 2 + extra);
  const masked = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) masked[i] = payload[i]! ^ key[i & 3]!;
  return Buffer.concat([head, masked]);
}

/** A close frame's payload: the code, then the reason. */
export function closePayload(code?: number, reason: Uint8Array | string = ''): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code);
  return Buffer.concat([b, typeof reason === 'string' ? Buffer.from(reason) : Buffer.from(reason)]);
}

export class RawClient {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly frames: Frame[] = [];
  private waiter: (() => void) | undefined;
  /** The TCP connection closed. */
  ended = false;
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket, head: Buffer) {
    this.closed = new Promise((resolve) => socket.once('close', () => {
      this.ended = true;
      this.waiter?.();
      resolve();
    }));
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    if (head.length > 0) this.onData(head);
  }

  /** Opens a connection and completes the handshake; rejects unless the server answers 101. */
  static open(port: number, path = '/'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      const key = randomBytes(16).toString('base64');
      socket.once('connect', () => {
        socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      });
      let received = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        const end = received.indexOf('\r\n\r\n');
        if (end === -1) return;
        socket.off('data', onData);
        const head = received.subarray(0, end).toString('latin1');
        if (!head.startsWith('HTTP/1.1 101')) {
          socket.destroy();
          reject(new Error(`handshake refused: ${head.split('\r\n')[0]}`));
          return;
        }
        resolve(new RawClient(socket, received.subarray(end + 4)));
      };
      socket.on('data', onData);
      socket.once('error', reject);
    });
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const b = this.buffer;
      if (b.length < 2) break;
      let length = b[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (b.length < 4) break;
        length = b.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (b.length < 10) break;
        length = Number(b.readBigUInt64BE(2));
        offset = 10;
      }
      const masked = (b[1]! & 0x80) !== 0; // servers must not mask; kept so a test can see it
      const keyAt = offset;
      if (masked) offset += 4;
      if (b.length < offset + length) break;
      let payload = b.subarray(offset, offset + length);
      if (masked) payload = Buffer.from(payload.map((byte, i) => byte ^ b[keyAt + (i & 3)]!));
      this.frames.push({ fin: (b[0]! & 0x80) !== 0, rsv: (b[0]! >> 4) & 7, opcode: b[0]! & 0x0f, payload: Buffer.from(payload) });
      this.buffer = b.subarray(offset + length);
    }
    if (this.frames.length > 0) this.waiter?.();
  }

  send(spec: FrameSpec): void {
    this.socket.write(encodeFrame(spec));
  }

  /** Writes bytes in pieces of `size`, each its own write: a frame split across TCP segments. */
  async sendChopped(bytes: Buffer, size: number, pauseMs = 0): Promise<void> {
    for (let i = 0; i < bytes.length; i += size) {
      this.socket.write(bytes.subarray(i, i + size));
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
  }

  /** The next frame from the server, or null once the connection has closed without one. */
  async next(timeoutMs = 10_000): Promise<Frame | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      if (this.ended) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame from the server within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.frames.shift()!;
  }

  /** Frames received so far and not yet read. */
  get pending(): number {
    return this.frames.length;
  }

  /** Closes cleanly from our side: a close frame, then the socket. */
  async close(code = 1000): Promise<void> {
    if (!this.ended) this.send({ opcode: OP.close, payload: closePayload(code) });
    this.socket.end();
    await this.closed;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
