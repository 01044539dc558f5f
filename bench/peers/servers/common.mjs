// What every peer server answers: GET / with 13 bytes of text, GET /stream with 1 MiB in 64 KiB chunks.
export const HELLO = Buffer.from('Hello, world!');
export const CHUNK = Buffer.alloc(64 * 1024, 120);
export const CHUNKS = 16;
export const port = Number(process.env.PORT ?? 0);
export async function* stream() {
  for (let i = 0; i < CHUNKS; i++) yield CHUNK;
}

/** Answers the runner's `cpu` lines on stdin with `cpu <µs>`, as bench/cpu-report.ts does for tsgi's servers. */
export function reportCpuOnRequest() {
  let pending = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => {
    pending += chunk;
    for (let end = pending.indexOf('\n'); end !== -1; end = pending.indexOf('\n')) {
      const line = pending.slice(0, end).trim();
      pending = pending.slice(end + 1);
      if (line !== 'cpu') continue;
      const { user, system } = process.cpuUsage();
      process.stdout.write(`cpu ${user + system}\n`);
    }
  });
}
