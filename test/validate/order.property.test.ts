/**
 * Random sequences of messages, legal and not, through `validate`. A reference model written
 * here, as flags in the way uvicorn keeps them, says which sends are legal; the middleware must
 * agree on every one, and the legal ones must reach the server unchanged: same objects, same order.
 */
import fc from 'fast-check';
import { validate, type ASGIApp, type ASGISendEvent, type Scope } from '../../src/index.js';
import { fakeServer } from '../support/asgi.js';
import { b, httpScope } from '../support/messages.js';

type Action = { kind: 'send'; message: Record<string, unknown> } | { kind: 'disconnect' };

const headers = [[b('x-a'), b('1')]];
// Fresh objects every time, so that "same object" means the one the app sent.
const messages: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.boolean().map((trailers) => ({ type: 'http.response.start', status: 200, headers, trailers })),
  fc.constant(null).map(() => ({ type: 'http.response.start', status: 103 })),
  fc.boolean().map((more) => ({ type: 'http.response.body', body: b('x'), more_body: more })),
  fc.constant(null).map(() => ({ type: 'http.response.body' })),
  fc.constant(null).map(() => ({ type: 'http.response.body', body: 'not bytes' })),
  fc.boolean().map((more) => ({ type: 'http.response.zerocopysend', file: 3, more_body: more })),
  fc.constant(null).map(() => ({ type: 'http.response.pathsend', path: '/srv/a.txt' })),
  fc.boolean().map((more) => ({ type: 'http.response.trailers', headers, more_trailers: more })),
  fc.constant(null).map(() => ({ type: 'http.response.push', path: '/a.css', headers: [] })),
  fc.constant(null).map(() => ({ type: 'http.response.early_hint', links: [b('</a.css>')] })),
  fc.constant(null).map(() => ({ type: 'http.response.debug', info: {} })),
  fc.constant(null).map(() => ({ type: 'http.response.start', status: 200, headers: [[b('X-Upper'), b('1')]] })),
  fc.constant(null).map(() => ({ type: 'http.request', body: b('') })),
);
const actions: fc.Arbitrary<Action[]> = fc.array(
  fc.oneof({ weight: 9, arbitrary: messages.map((message): Action => ({ kind: 'send', message })) }, { weight: 1, arbitrary: fc.constant<Action>({ kind: 'disconnect' }) }),
  { maxLength: 14 },
);

/** The reference: which sends are legal, kept as a handful of flags. */
class Model {
  debugSent = false;
  started = false;
  trailersAnnounced = false;
  anyBody = false;
  bodyDone = false;
  complete = false;
  disconnected = false;

  /** Whether the app may send `m` now; records it when it may. */
  send(m: Record<string, unknown>): boolean {
    if (this.complete) return false; // after a disconnect sends stay legal: the server raises
    const last = m.more_body !== true;
    switch (m.type) {
      case 'http.response.debug':
        if (this.started || this.debugSent) return false;
        this.debugSent = true;
        return true;
      case 'http.response.early_hint':
        return !this.bodyDone;
      case 'http.response.start':
        if (this.started || (m.status as number) < 200) return false;
        if (Array.isArray(m.headers) && m.headers.some(([name]: Uint8Array[]) => name!.some((c) => c >= 65 && c <= 90))) return false;
        this.started = true;
        this.trailersAnnounced = m.trailers === true;
        return true;
      case 'http.response.body':
      case 'http.response.zerocopysend':
        if (!this.started || this.bodyDone) return false;
        if ('body' in m && !(m.body instanceof Uint8Array)) return false;
        this.anyBody = true;
        if (last) this.finishBody();
        return true;
      case 'http.response.pathsend':
        if (!this.started || this.bodyDone || this.anyBody) return false;
        this.finishBody();
        return true;
      case 'http.response.push':
        return this.started && !this.bodyDone;
      case 'http.response.trailers':
        if (!this.bodyDone || !this.trailersAnnounced) return false;
        if (m.more_trailers !== true) this.complete = true;
        return true;
      default:
        return false; // not a message apps send
    }
  }

  private finishBody() {
    this.bodyDone = true;
    if (!this.trailersAnnounced) this.complete = true;
  }
}

const scope = httpScope({
  extensions: Object.fromEntries(['trailers', 'pathsend', 'zerocopysend', 'push', 'early_hint', 'debug'].map((e) => [`http.response.${e}`, {}])),
}) as Scope;

test('validate agrees with the reference model on every send, and passes legal sends unchanged', async () => {
  await fc.assert(
    fc.asyncProperty(actions, async (script) => {
      const model = new Model();
      const expectedAtServer: unknown[] = [];
      const verdicts: [boolean, boolean][] = [];
      const server = fakeServer(script.filter((a) => a.kind === 'disconnect').map(() => ({ type: 'http.disconnect' })));
      const app: ASGIApp = async (_s, receive, send) => {
        for (const action of script) {
          if (action.kind === 'disconnect') {
            await receive();
            model.disconnected = true;
            continue;
          }
          const legal = model.send(action.message);
          if (legal) expectedAtServer.push(action.message);
          const accepted = await send(action.message as unknown as ASGISendEvent).then(() => true, () => false);
          verdicts.push([accepted, legal]);
        }
      };
      const outcome = await validate(app, { enabled: true })(scope, server.receive, server.send).then(() => 'resolved', (e: { rule?: string }) => e.rule);

      for (const [accepted, legal] of verdicts) expect(accepted).toBe(legal);
      expect(server.sent).toHaveLength(expectedAtServer.length);
      server.sent.forEach((m, i) => expect(m).toBe(expectedAtServer[i]));
      expect(outcome).toBe(model.complete || model.disconnected ? 'resolved' : 'incomplete-response');
    }),
    { numRuns: 2000 },
  );
});
