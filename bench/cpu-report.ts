/**
 * The server side of CPU per request: a load benchmark's server process calls this once, and
 * then answers each `cpu` line the runner writes to its stdin with `cpu <µs>`, its own CPU time
 * so far (user + system, from process.cpuUsage()). Measured inside the server, so it counts
 * exactly the server's work, whatever else the machine is doing.
 * bench/peers/servers/common.mjs carries the same few lines for the peers' plain-JS servers.
 */
export function reportCpuOnRequest(): void {
  let pending = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
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
