/**
 * The WebSocket echo servers the benchmark compares, one per process: `node
 * dist/bench/websocket/servers.js` with VARIANT set to `tsgi` (serve with an echo app, validation
 * off), `ws` (a bare ws server, the target) or `net` (a bare node:net frame loop, the floor: no
 * UTF-8 check, no fragmentation, no limits). Each prints `listening <url>`.
 */
import { createHash } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import type { ASGIApp } from '../../src/index.js';
import { serve } from '../../src/node/index.js';

const variant = process.env.VARIANT ?? 'tsgi';
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Echo with the raw ASGI messages: what a tuned app does, no helper in between. */
const echo: ASGIApp = async (scope, receive, send) => {
  if (scope.type !== 'websocket') return;
  await receive();
  await send({ type: 'websocket.accept' });
  for (;;) {
    const message = await receive();
    if (message.type !== 'websocket.receive') return;
    await send(message.text !== undefined && message.text !== null ? { type: 'websocket.send', text: message.text } : { type: 'websocket.send', bytes: message.bytes! });
  }
};

/** A frame loop: unmask each client frame and write it back unmasked. Assumes whole, unfragmented frames. */
function frameLoop(socket: Socket, first: Buffer): void {
  let buffer = first;
  const onData = (chunk: Buffer) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      if (buffer.length < 2) break;
      let length = buffer[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) break;
        length = buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) break;
        length = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (buffer.length < offset + 4 + length) break;
      const opcode = buffer[0]! & 0x0f;
      const key = buffer.subarray(offset, offset + 4);
      const payload = Buffer.from(buffer.subarray(offset + 4, offset + 4 + length));
      for (let i = 0; i < length; i++) payload[i]! ^= key[i & 3]!;
      buffer = buffer.subarray(offset + 4 + length);
      if (opcode === 8) {
        socket.end(Buffer.from([0x88, 0]));
        return;
      }
      const head = length < 126 ? Buffer.from([0x80 | opcode, length]) : length < 65536 ? Buffer.from([0x80 | opcode, 126, length >> 8, length & 0xff]) : Buffer.alloc(10);
      if (length >= 65536) {
        head[0] = 0x80 | opcode;
        head[1] = 127;
        head.writeBigUInt64BE(BigInt(length), 2);
      }
      out.push(head, payload);
    }
    if (out.length > 0) socket.write(Buffer.concat(out));
  };
  socket.on('data', onData);
  if (first.length > 0) onData(Buffer.alloc(0));
}

if (variant === 'tsgi') {
  const server = await serve(echo, { port: 0, validate: false, lifespan: 'off', signals: true, timeouts: { webSocketPing: 0 }, logger: { error: console.error, warn: () => {}, info: () => {} } });
  console.log(`listening ${server.url}`);
} else if (variant === 'ws') {
  const server = createHttpServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary })));
  server.listen(0, '127.0.0.1', () => console.log(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  process.on('SIGTERM', () => process.exit(0));
} else if (variant === 'net') {
  const server = createServer((socket) => {
    let head = Buffer.alloc(0);
    const onHead = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onHead);
      const key = /sec-websocket-key:\s*(\S+)/i.exec(head.subarray(0, end).toString('latin1'))?.[1] ?? '';
      const accept = createHash('sha1').update(key + GUID).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      frameLoop(socket, head.subarray(end + 4));
    };
    socket.on('data', onHead);
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1', () => console.log(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  process.on('SIGTERM', () => process.exit(0));
} else {
  throw new Error(`unknown VARIANT ${variant}`);
}
