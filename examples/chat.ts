/**
 * A chat room over WebSocket: `npx tsx examples/chat.ts`, then open http://127.0.0.1:8000 in two
 * tabs. Every message a client sends goes to everyone in the room; PORT changes the port.
 */
import { Response, WebSocket, WebSocketDisconnect, type ASGIApp, type WebSocketScope } from '../src/index.js';
import { serve } from '../src/node/index.js';

const page = `<!doctype html><meta charset="utf-8"><title>tsgi chat</title>
<ul id="log"></ul><form id="f"><input id="m" autocomplete="off" autofocus><button>send</button></form>
<script>
  const ws = new WebSocket(location.origin.replace('http', 'ws') + '/ws', ['chat']);
  ws.onmessage = (e) => { const li = document.createElement('li'); li.textContent = e.data; log.append(li); };
  f.onsubmit = (e) => { e.preventDefault(); ws.send(m.value); m.value = ''; };
</script>`;

const room = new Set<WebSocket>();

async function chat(ws: WebSocket): Promise<void> {
  await ws.accept({ subprotocol: ws.subprotocols.includes('chat') ? 'chat' : null });
  room.add(ws);
  const name = `guest-${Math.random().toString(36).slice(2, 6)}`;
  try {
    for await (const message of ws) {
      if (typeof message !== 'string') continue;
      // A member that left between two messages raises WebSocketDisconnect: skip it.
      await Promise.all([...room].map((member) => member.sendText(`${name}: ${message}`).catch((error: unknown) => {
        if (!(error instanceof WebSocketDisconnect)) throw error;
      })));
    }
  } finally {
    room.delete(ws);
  }
}

export const app: ASGIApp = async (scope, receive, send) => {
  if (scope.type === 'websocket') {
    const ws = new WebSocket(scope as WebSocketScope, receive, send);
    if (scope.path !== '/ws') return ws.close(1008, 'no such room');
    return chat(ws);
  }
  if (scope.type === 'http') return new Response(page, { mediaType: 'text/html' }).respond(scope, receive, send);
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const server = await serve(app, { port: Number(process.env.PORT ?? 8000) });
  console.log(`tsgi chat on ${server.url}`);
}
