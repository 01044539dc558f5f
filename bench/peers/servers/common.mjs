// What every peer server answers: GET / with 13 bytes of text, GET /stream with 1 MiB in 64 KiB chunks.
export const HELLO = Buffer.from('Hello, world!');
export const CHUNK = Buffer.alloc(64 * 1024, 120);
export const CHUNKS = 16;
export const port = Number(process.env.PORT ?? 0);
export async function* stream() {
  for (let i = 0; i < CHUNKS; i++) yield CHUNK;
}
