/** Why a value failed a guard: where, which rule, and in words. */
export interface GuardFailure {
  /** JSON pointer to the offending field, `""` for the value itself (`/headers/0/1`). */
  readonly path: string;
  /** The schema keyword that failed: `type`, `required`, `const`, `instanceof`, ... */
  readonly rule: string;
  /** What the field must be, phrased to follow the path: `must be an integer`. */
  readonly message: string;
  /** The offending value, `undefined` when the field is missing. */
  readonly value: unknown;
}

/** The guard and explanation for one message type, as the type-to-guard index lists them. */
export interface MessageGuard {
  readonly type: string;
  readonly protocol: string;
  readonly direction: 'receive' | 'send';
  /** The `scope.extensions` key a server must offer before an app may send this message. */
  readonly extension: string | null;
  readonly is: (value: unknown) => boolean;
  readonly explain: (value: unknown) => GuardFailure | null;
}

/** The guard and explanation for one scope type. */
export interface ScopeGuard {
  readonly type: string;
  readonly protocol: string;
  readonly is: (value: unknown) => boolean;
  readonly explain: (value: unknown) => GuardFailure | null;
}

/** The fields of an ajv error object that explanations read. */
export interface ValidatorError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** A validator as ajv's standalone code defines it: a predicate that leaves its errors behind. */
export interface CompiledValidator {
  (data: unknown): boolean;
  errors?: ValidatorError[] | null;
}

function article(type: string): string {
  if (type === 'null') return 'null';
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function phrase(error: ValidatorError): string {
  const { keyword, params } = error;
  switch (keyword) {
    case 'type':
      return `must be ${String(params.type).split(',').map(article).join(' or ')}`;
    case 'required':
      return 'is required';
    case 'const':
      return `must be ${JSON.stringify(params.allowedValue)}`;
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'minItems':
    case 'maxItems':
      return `must have ${keyword === 'minItems' ? 'at least' : 'at most'} ${String(params.limit)} items`;
    default:
      return error.message ?? `must pass "${keyword}"`;
  }
}

function valueAt(data: unknown, pointer: string): unknown {
  let node = data;
  for (const raw of pointer.split('/').slice(1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[raw.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node;
}

/** Turns the errors a failed validator left behind into one readable failure. */
export function explainFailure(errors: readonly ValidatorError[] | null | undefined, data: unknown): GuardFailure {
  if (!errors || errors.length === 0) {
    return { path: '', rule: 'unknown', message: 'is invalid', value: data };
  }
  const last = errors[errors.length - 1]!;
  if (last.keyword === 'required') {
    const path = `${last.instancePath}/${String(last.params.missingProperty)}`;
    return { path, rule: 'required', message: 'is required', value: undefined };
  }
  if (last.keyword === 'anyOf') {
    const branches = errors.filter((e) => e !== last);
    // A branch that failed inside the value matched its shape and broke on a detail: that
    // detail is the useful answer (`/client/1 must be an integer`, not "must be null").
    const deepest = branches.reduce<ValidatorError | undefined>(
      (best, e) => (e.instancePath.length > (best?.instancePath.length ?? last.instancePath.length) ? e : best),
      undefined,
    );
    if (deepest) return explainFailure([deepest], data);
    // Otherwise list the alternatives: "must be a Uint8Array or null".
    const options = [...new Set(branches.map(phrase))];
    const message = options.map((o, i) => (i === 0 ? o : o.replace(/^must be /, ''))).join(' or ');
    return { path: last.instancePath, rule: 'anyOf', message, value: valueAt(data, last.instancePath) };
  }
  return { path: last.instancePath, rule: last.keyword, message: phrase(last), value: valueAt(data, last.instancePath) };
}
