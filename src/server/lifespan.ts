/**
 * The lifespan protocol, from the server's side (tsgi/node's serve and tsgi/testing's TestClient): ask the app to start up before serving and to
 * shut down after, and carry the state it fills into every request scope.
 */
import type { ASGISendEvent, LifespanReceiveEvent, LifespanScope } from '../../generated/index.js';
import type { ASGIApp } from '../protocol.js';

export type LifespanMode = 'auto' | 'on' | 'off';

export class LifespanStartupError extends Error {
  override readonly name = 'LifespanStartupError';
}

type Answer = { ok: true } | { ok: false; message: string };

export class Lifespan {
  /** The state the app filled during startup; undefined when lifespan is off or unsupported. */
  state: Record<string, unknown> | undefined;
  private supported = false;
  private running: Promise<void> | undefined;
  private appError: unknown;
  private appExited = false;
  private wake: ((event: LifespanReceiveEvent) => void) | undefined;
  private pending: LifespanReceiveEvent[] = [];
  private answer: ((answer: Answer) => void) | undefined;

  constructor(
    private readonly app: ASGIApp,
    private readonly mode: LifespanMode,
    private readonly log: { info(message: string): void; warn(message: string, error?: unknown): void },
  ) {}

  private deliver(event: LifespanReceiveEvent): void {
    const wake = this.wake;
    if (wake) {
      this.wake = undefined;
      wake(event);
    } else {
      this.pending.push(event);
    }
  }

  private ask(event: LifespanReceiveEvent): Promise<Answer | 'exited'> {
    const answered = new Promise<Answer>((resolve) => {
      this.answer = resolve;
    });
    this.deliver(event);
    return Promise.race([answered, this.running!.then(() => 'exited' as const)]);
  }

  async startup(): Promise<void> {
    if (this.mode === 'off') return;
    const state: Record<string, unknown> = {};
    const scope: LifespanScope = { type: 'lifespan', asgi: { version: '3.0', spec_version: '2.0' }, state };
    const receive = (): Promise<LifespanReceiveEvent> => {
      const next = this.pending.shift();
      if (next) return Promise.resolve(next);
      return new Promise((resolve) => {
        this.wake = resolve;
      });
    };
    const send = async (message: ASGISendEvent): Promise<void> => {
      const ok = message.type === 'lifespan.startup.complete' || message.type === 'lifespan.shutdown.complete';
      const failed = message.type === 'lifespan.startup.failed' || message.type === 'lifespan.shutdown.failed';
      if (!ok && !failed) throw new Error(`unexpected lifespan message '${message.type}'`);
      this.answer?.(ok ? { ok: true } : { ok: false, message: (message as { message?: string }).message ?? '' });
    };
    this.running = Promise.resolve()
      .then(() => this.app(scope, receive, send))
      .then(
        () => { this.appExited = true; },
        (error: unknown) => { this.appExited = true; this.appError = error; },
      );

    const answer = await this.ask({ type: 'lifespan.startup' });
    if (answer === 'exited') {
      // The app returned or threw without answering: it does not speak lifespan.
      if (this.mode === 'on') throw new LifespanStartupError(`lifespan startup failed: the app ${this.appError ? `raised ${String(this.appError)}` : 'returned'} without answering`);
      if (this.appError !== undefined) this.log.info("ASGI 'lifespan' protocol appears unsupported; the app raised on it");
      return;
    }
    if (!answer.ok) throw new LifespanStartupError(`lifespan startup failed${answer.message ? `: ${answer.message}` : ''}`);
    this.supported = true;
    this.state = state;
  }

  async shutdown(): Promise<void> {
    if (!this.supported || this.appExited) return;
    const answer = await this.ask({ type: 'lifespan.shutdown' });
    if (answer === 'exited') {
      if (this.appError !== undefined) this.log.warn('lifespan shutdown: the app raised', this.appError);
      return;
    }
    if (!answer.ok) this.log.warn(`lifespan shutdown failed${answer.message ? `: ${answer.message}` : ''}`);
  }
}
