/** A Lambda container in miniature: one invocation starts lifespan; SIGTERM must shut it down. */
import { readFileSync } from 'node:fs';
import { handler } from '../../src/aws-lambda/index.js';
import { PlainTextResponse, type ASGIApp } from '../../src/index.js';

const app: ASGIApp = async (scope, receive, send) => {
  if (scope.type === 'lifespan') {
    for (;;) {
      const message = await receive();
      if (message.type === 'lifespan.startup') {
        scope.state!['ready'] = true;
        await send({ type: 'lifespan.startup.complete' });
      } else {
        console.log('lifespan shutdown ran');
        await send({ type: 'lifespan.shutdown.complete' });
        return;
      }
    }
  }
  if (scope.type === 'http') await new PlainTextResponse('ok')(scope, receive, send);
};

const main = handler(app);
const event = JSON.parse(readFileSync(new URL('./fixtures/api-gateway-v2.json', import.meta.url), 'utf8')) as Parameters<typeof main>[0];
const result = await main(event);
console.log(`invoked: ${result.statusCode}`);
// The runtime keeps the process alive between invocations.
setInterval(() => {}, 1000);
