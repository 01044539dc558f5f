/**
 * Serves the demo app from code, with `serve()`: `npx tsx examples/server.ts`, then open
 * http://127.0.0.1:8000. (`npm start` serves the same app through the `tsgi` command.)
 * PORT and HOST change where it listens; Ctrl-C shuts it down gracefully.
 */
import { serve } from '../src/node/index.js';
import { app } from './app.js';

const server = await serve(app, {
  host: process.env.HOST ?? '127.0.0.1',
  port: Number(process.env.PORT ?? 8000),
  validate: true,
});
console.log(`tsgi demo listening on ${server.url}`);
console.log(`  try: curl ${server.url}/  ${server.url}/json?name=you  ${server.url}/stream  -d hi ${server.url}/echo`);
