/**
 * The demo app as a fetch handler: `bun examples/fetch.ts`, `deno serve --sloppy-imports
 * examples/fetch.ts`, or a Cloudflare Worker's entry point, all serve a default export with `fetch`.
 */
import { toFetchHandler } from '../src/index.js';
import { app } from './app.js';

export default toFetchHandler(app);
