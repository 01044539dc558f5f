import express from 'express';
import { Readable } from 'node:stream';
import { HELLO, port, stream, reportCpuOnRequest } from './common.mjs';

const app = express();
app.use((_req, res, next) => {
  res.set('x-middleware', '1');
  next();
});
app.get('/', (_req, res) => res.type('text/plain; charset=utf-8').send(HELLO));
app.get('/stream', (_req, res) => {
  res.type('application/octet-stream');
  Readable.from(stream()).pipe(res);
});
const server = app.listen(port, '127.0.0.1', () => console.log(`listening http://127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));

reportCpuOnRequest();
