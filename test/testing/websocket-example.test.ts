/** examples/chat.ts works: what one member says, every member hears; an unknown path is refused. */
import { app } from '../../examples/chat.js';
import { TestClient, WebSocketDenied } from '../../src/testing/index.js';

test('two members of the chat room hear each other', async () => {
  const client = new TestClient(app);
  const ada = await client.websocketConnect('/ws', { subprotocols: ['chat'] });
  const bob = await client.websocketConnect('/ws');
  expect(ada.subprotocol).toBe('chat');
  expect(bob.subprotocol).toBeNull();
  ada.sendText('hello');
  expect(await ada.receiveText()).toMatch(/^guest-\w+: hello$/);
  expect(await bob.receiveText()).toMatch(/^guest-\w+: hello$/);
  ada.close();
  bob.close();
  await client.settled();
});

test('the page is served, and another path is refused', async () => {
  const client = new TestClient(app);
  const page = await client.fetch('/');
  expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(await page.text()).toContain('new WebSocket(');
  await expect(client.websocketConnect('/elsewhere')).rejects.toBeInstanceOf(WebSocketDenied);
});
