/** tsgi/testing: drive ASGI apps in process, through the fetch API. */
export { TestClient, type TestClientOptions } from './test-client.js';
export { WebSocketDenied, WebSocketTestSession, type WebSocketClientMessage, type WebSocketConnectOptions } from './websocket.js';
