/** tsgi/node: run ASGI apps on node:http. */
export { serve, type Logger, type ServeLimits, type ServeOptions, type ServerHandle, type ServeTimeouts } from './serve.js';
export { LifespanStartupError, type LifespanMode } from '../server/lifespan.js';
export { RequestResponseCycle } from './cycle.js';
export { httpScope, type ScopeContext } from './scope.js';
