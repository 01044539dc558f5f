import Fastify from 'fastify';
import { Readable } from 'node:stream';
import { HELLO, port, stream, reportCpuOnRequest } from './common.mjs';

const app = Fastify({ logger: false });
app.addHook('onSend', async (_request, reply, payload) => {
  reply.header('x-middleware', '1');
  return payload;
});
app.get('/', async (_request, reply) => reply.type('text/plain; charset=utf-8').send(HELLO));
app.get('/stream', async (_request, reply) => reply.type('application/octet-stream').send(Readable.from(stream())));
await app.listen({ port, host: '127.0.0.1' });
console.log(`listening http://127.0.0.1:${app.server.address().port}`);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));

reportCpuOnRequest();
