/** baseHTTPMiddleware leaves WebSocket scopes to the app below it, untouched, as Starlette does. */
import { baseHTTPMiddleware, WebSocket, type ASGIApp, type Receive, type Scope, type Send, type WebSocketScope } from '../../src/index.js';
import { TestClient } from '../../src/testing/index.js';

test('the scope, receive and send reach the downstream app as they are; dispatch never runs', async () => {
  let dispatched = 0;
  let downstream: [Scope, Receive, Send] | undefined;
  const inner: ASGIApp = async (scope, receive, send) => {
    downstream = [scope, receive, send];
    const ws = new WebSocket(scope as WebSocketScope, receive, send);
    await ws.accept();
    await ws.sendText(await ws.receiveText());
    await ws.close();
  };
  const app = baseHTTPMiddleware(inner, async (request, callNext) => {
    dispatched += 1;
    return callNext(request);
  });
  const outer: [Scope, Receive, Send][] = [];
  const client = new TestClient(async (scope, receive, send) => {
    if (scope.type === 'websocket') outer.push([scope, receive, send]);
    return app(scope, receive, send);
  });
  const session = await client.websocketConnect('/ws');
  session.sendText('through');
  expect(await session.receiveText()).toBe('through');
  await client.settled();
  expect(dispatched).toBe(0);
  expect(downstream![0]).toBe(outer[0]![0]);
  expect(downstream![1]).toBe(outer[0]![1]);
  expect(downstream![2]).toBe(outer[0]![2]);
});
