/** tsgi/node: run ASGI apps on node:http. */
export { serve, type Logger, type ServeOptions, type ServerHandle } from './serve.js';
export { LifespanStartupError, type LifespanMode } from '../server/lifespan.js';
export { RequestResponseCycle } from './cycle.js';
export { httpScope, type ScopeContext } from './scope.js';
