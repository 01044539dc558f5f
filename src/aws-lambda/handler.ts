/**
 * `handler(app, options)`: an ASGI app as an AWS Lambda handler for API Gateway (REST and HTTP
 * APIs), Application Load Balancers and Function URLs, as Mangum does for Python.
 * `streamHandler(app, options)`: the same for Function URLs in RESPONSE_STREAM mode.
 */
import type { ASGIReceiveEvent, ASGISendEvent, Header, HTTPReceiveEvent } from '../../generated/index.js';
import { DISCONNECT } from '../http/protocol-constants.js';
import { ClientDisconnect } from '../http/request.js';
import type { ASGIApp } from '../protocol.js';
import { Lifespan, type LifespanMode } from '../server/lifespan.js';
import { consoleLogger, type Logger } from '../server/logger.js';
import { validate } from '../validate/middleware.js';
import { eventKind, eventRequest, type LambdaRequest } from './events.js';
import { DEFAULT_TEXT_MIME_TYPES, lambdaResult, type BodyEncoding } from './response.js';
import type {
  ALBEvent,
  ALBResult,
  APIGatewayV1Event,
  APIGatewayV1Result,
  APIGatewayV2Event,
  APIGatewayV2Result,
  AWSLambdaGlobal,
  LambdaContext,
  LambdaEvent,
  LambdaResult,
  ResponseStream,
} from './types.js';

/** The same as `Logger`; the name stays for existing code. */
export type LambdaLogger = Logger;

export interface LambdaHandlerOptions {
  /**
   * A custom domain's base path mapping, stripped from the start of `scope.path` (Mangum's
   * `api_gateway_base_path`). Default `'/'`: nothing stripped.
   */
  apiGatewayBasePath?: string;
  /**
   * The path the app is mounted under, for `scope.root_path`; as serve does, `scope.path` starts
   * with it. Default `''`.
   */
  rootPath?: string;
  /**
   * `auto` (default) runs lifespan startup on the first invocation if the app speaks it, once per
   * container; `on` requires it (a failure fails the invocation); `off` skips it.
   */
  lifespan?: LifespanMode;
  /** Wrap the app in `validate`. Default: on unless `NODE_ENV` is `production`. */
  validate?: boolean;
  /**
   * Media types whose bodies are returned as text, beside `text/*`, `+json`, `+xml` and
   * `DEFAULT_TEXT_MIME_TYPES`. Every other body, and any body with a content-encoding, is base64.
   */
  textMimeTypes?: readonly string[];
  /** Where errors and notices go. Default: the console. */
  logger?: Logger;
}

/** The Lambda handler: one call signature per event kind, each with its own result shape. */
export interface LambdaHandler {
  (event: ALBEvent, context?: LambdaContext): Promise<ALBResult>;
  (event: APIGatewayV2Event, context?: LambdaContext): Promise<APIGatewayV2Result>;
  (event: APIGatewayV1Event, context?: LambdaContext): Promise<APIGatewayV1Result>;
  (event: LambdaEvent, context?: LambdaContext): Promise<LambdaResult>;
  /** Runs lifespan shutdown (the runtime's SIGTERM also does, when lifespan started). */
  shutdown(): Promise<void>;
}

/** What `streamHandler` returns: the handler `awslambda.streamifyResponse` made. */
export type LambdaStreamHandler = (event: LambdaEvent, responseStream: ResponseStream, context?: LambdaContext) => Promise<void>;

const EMPTY = new Uint8Array(0);
const TEXT_500: Header[] = [[Buffer.from('content-type'), Buffer.from('text/plain; charset=utf-8')]];

/** Lifespan once per container: started by the first invocation, shut down on SIGTERM. */
function containerLifespan(app: ASGIApp, mode: LifespanMode, logger: Logger) {
  const lifespan = new Lifespan(app, mode, logger);
  let started: Promise<void> | undefined;
  let shutdown: Promise<void> | undefined;
  const stop = () => (shutdown ??= started === undefined ? Promise.resolve() : started.then(() => lifespan.shutdown(), () => undefined));
  return {
    lifespan,
    start(): Promise<void> {
      return (started ??= lifespan.startup().then(() => {
        // Lambda sends SIGTERM before it ends a container only when an extension is registered;
        // then shutdown runs in the time it allows. Otherwise the container is frozen and gone.
        if (lifespan.state !== undefined) {
          process.once('SIGTERM', () => {
            void stop().finally(() => process.exit(0));
          });
        }
      }));
    },
    stop,
  };
}

/** One invocation's exchange with the app: the body once, then http.disconnect when it is over. */
class Invocation {
  started = false;
  complete = false;
  disconnected = false;
  status = 200;
  headers: readonly Header[] = [];
  private chunks: Uint8Array[] = [];
  private bodySent = false;
  private over: Promise<HTTPReceiveEvent> | undefined;
  private announceOver: ((message: HTTPReceiveEvent) => void) | undefined;

  constructor(
    private readonly request: LambdaRequest,
    /** Streaming: hands the start and each chunk on as they come; resolves when it may take more. */
    private readonly stream?: (chunk: Uint8Array, more: boolean, invocation: Invocation) => Promise<void>,
  ) {}

  finish(): void {
    this.complete = true;
    this.announceOver?.(DISCONNECT);
  }

  disconnect(): void {
    if (this.complete) return;
    this.disconnected = true;
    this.announceOver?.(DISCONNECT);
  }

  readonly receive = (): Promise<ASGIReceiveEvent> => {
    if (this.complete || this.disconnected) return Promise.resolve(DISCONNECT);
    if (!this.bodySent) {
      this.bodySent = true;
      return Promise.resolve({ type: 'http.request', body: this.request.body, more_body: false });
    }
    return (this.over ??= new Promise((resolve) => {
      this.announceOver = resolve;
    }));
  };

  readonly send = async (message: ASGISendEvent): Promise<void> => {
    if (this.disconnected) throw new ClientDisconnect('the client disconnected; nothing more can be sent');
    if (message.type === 'http.response.start' && !this.started) {
      this.started = true;
      this.status = message.status;
      this.headers = message.headers ?? [];
      return;
    }
    if (message.type === 'http.response.body' && this.started && !this.complete) {
      const chunk = message.body ?? EMPTY;
      const more = message.more_body === true;
      if (this.stream !== undefined) await this.stream(chunk, more, this);
      else if (chunk.length > 0) this.chunks.push(chunk);
      if (!more) this.finish();
      return;
    }
    throw new Error(`Unexpected ASGI message '${String((message as { type?: unknown }).type)}' ${this.started ? (this.complete ? 'after the response completed' : 'during the response body') : "before 'http.response.start'"}`);
  };

  body(): Uint8Array {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
  }
}

function describe(request: LambdaRequest): string {
  return `"${request.scope.method} ${request.scope.path}"`;
}

export function handler(app: ASGIApp, options: LambdaHandlerOptions = {}): LambdaHandler {
  const logger = options.logger ?? consoleLogger;
  const wrapped = validate(app, options.validate === undefined ? {} : { enabled: options.validate });
  const container = containerLifespan(wrapped, options.lifespan ?? 'auto', logger);
  const basePath = options.apiGatewayBasePath ?? '/';
  const rootPath = options.rootPath ?? '';
  const encoding: BodyEncoding = { textMimeTypes: new Set([...DEFAULT_TEXT_MIME_TYPES, ...(options.textMimeTypes ?? [])].map((t) => t.toLowerCase())) };

  const invoke = async (event: LambdaEvent): Promise<LambdaResult> => {
    const kind = eventKind(event);
    const request = eventRequest(event, kind, basePath, rootPath);
    await container.start();
    if (container.lifespan.state !== undefined) request.scope.state = { ...container.lifespan.state };
    const multiValue = kind === 'alb' && typeof (event as ALBEvent).multiValueHeaders === 'object' && (event as ALBEvent).multiValueHeaders !== null;
    const invocation = new Invocation(request);
    try {
      await wrapped(request.scope, invocation.receive, invocation.send);
      if (!invocation.complete) {
        logger.error(`ASGI application returned without ${invocation.started ? 'completing' : 'starting'} its response, ${describe(request)}`);
        return lambdaResult(kind, multiValue, 500, TEXT_500, Buffer.from('Internal Server Error'), encoding);
      }
    } catch (error) {
      logger.error(`Exception in ASGI application, ${describe(request)}`, error);
      // Nothing has left yet: an honest 500, whether or not the app had started its response.
      return lambdaResult(kind, multiValue, 500, TEXT_500, Buffer.from('Internal Server Error'), encoding);
    }
    return lambdaResult(kind, multiValue, invocation.status, invocation.headers, invocation.body(), encoding);
  };
  const lambda = ((event: LambdaEvent) => invoke(event)) as LambdaHandler;
  lambda.shutdown = container.stop;
  return lambda;
}

function awslambdaGlobal(): AWSLambdaGlobal {
  const global = (globalThis as { awslambda?: AWSLambdaGlobal }).awslambda;
  if (global === undefined || typeof global.streamifyResponse !== 'function') {
    throw new Error("streamHandler needs the 'awslambda' global of the AWS Lambda Node.js runtime (response streaming, Function URL invoke mode RESPONSE_STREAM)");
  }
  return global;
}

/** Waits until the stream emits `event` (it takes more, or has flushed everything), or is gone. */
function settled(stream: ResponseStream, event: 'drain' | 'finish'): Promise<void> {
  if (event === 'finish' && stream.writableFinished === true) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      stream.off(event, done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.once(event, done);
    stream.once('close', done);
    stream.once('error', done);
  });
}

/**
 * For Function URLs in RESPONSE_STREAM invoke mode: each body chunk is written to Lambda's
 * response stream as the app sends it, with backpressure; a client that leaves is
 * http.disconnect. Requires the `awslambda` global of the Lambda Node.js runtime.
 */
export function streamHandler(app: ASGIApp, options: LambdaHandlerOptions = {}): LambdaStreamHandler {
  const awslambda = awslambdaGlobal();
  const logger = options.logger ?? consoleLogger;
  const wrapped = validate(app, options.validate === undefined ? {} : { enabled: options.validate });
  const container = containerLifespan(wrapped, options.lifespan ?? 'auto', logger);
  const basePath = options.apiGatewayBasePath ?? '/';
  const rootPath = options.rootPath ?? '';

  const invoke = async (event: LambdaEvent, responseStream: ResponseStream): Promise<void> => {
    const kind = eventKind(event);
    const request = eventRequest(event, kind, basePath, rootPath);
    await container.start();
    if (container.lifespan.state !== undefined) request.scope.state = { ...container.lifespan.state };
    let writer: ResponseStream | undefined;
    const open = (invocation: Invocation): ResponseStream => {
      const headers: { [name: string]: string } = {};
      const cookies: string[] = [];
      for (const [n, v] of invocation.headers) {
        const name = Buffer.from(n).toString('latin1').toLowerCase();
        const value = Buffer.from(v).toString('latin1');
        if (name === 'set-cookie') cookies.push(value);
        else headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
      }
      return awslambda.HttpResponseStream.from(responseStream, { statusCode: invocation.status, headers, ...(cookies.length > 0 ? { cookies } : {}) });
    };
    const invocation = new Invocation(request, async (chunk, more, self) => {
      writer ??= open(self);
      if (writer.destroyed === true) {
        self.disconnect();
        throw new ClientDisconnect('the client disconnected; nothing more can be sent');
      }
      if (!more) {
        writer.end(chunk.length > 0 ? chunk : undefined);
        // The invocation ends when Lambda has the whole body, not when it was handed over.
        await settled(writer, 'finish');
        return;
      }
      if (chunk.length > 0 && !writer.write(chunk)) await settled(writer, 'drain');
    });
    const onClose = () => invocation.disconnect();
    responseStream.once('close', onClose);
    responseStream.once('error', onClose);
    try {
      await wrapped(request.scope, invocation.receive, invocation.send);
      if (!invocation.complete && !invocation.disconnected) {
        logger.error(`ASGI application returned without ${invocation.started ? 'completing' : 'starting'} its response, ${describe(request)}`);
        if (writer === undefined) {
          invocation.status = 500;
          invocation.headers = TEXT_500;
          const failed = open(invocation);
          failed.end(Buffer.from('Internal Server Error'));
          await settled(failed, 'finish');
          return;
        }
        throw new Error('the app returned before completing its response');
      }
    } catch (error) {
      if (invocation.disconnected && error instanceof ClientDisconnect) return;
      logger.error(`Exception in ASGI application, ${describe(request)}`, error);
      if (writer === undefined && !invocation.disconnected) {
        invocation.status = 500;
        invocation.headers = TEXT_500;
        const failed = open(invocation);
        failed.end(Buffer.from('Internal Server Error'));
        await settled(failed, 'finish');
        return;
      }
      // Part of the body is out: fail the invocation, so the stream is not passed off as complete.
      throw error;
    } finally {
      responseStream.off('close', onClose);
      responseStream.off('error', onClose);
    }
  };
  return awslambda.streamifyResponse(invoke) as LambdaStreamHandler;
}
