/** tsgi/node: run ASGI apps on node:http. */
export { serve, type Logger, type ServeLimits, type ServeOptions, type ServerHandle, type ServeTimeouts } from './serve.js';
export { LifespanStartupError, type LifespanMode } from '../server/lifespan.js';
// The cycle and the scope builder stay internal: their fields and options change with the
// server's insides, and serve() is the contract.
