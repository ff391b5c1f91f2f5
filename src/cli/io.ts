/** Where a command writes and what environment it sees; tests pass their own. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: Record<string, string | undefined>;
  /** What `-` reads (plan, validate); absent: nothing to read. */
  stdin?: AsyncIterable<string | Uint8Array>;
}

export const processIo: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env, stdin: process.stdin };

/** All of stdin as text (UTF-8). */
export async function readStdin(io: CliIo): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin ?? []) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/** The definitions directory: the argument, else PIPELINES_DIR, else ./pipelines. */
export function pipelinesDir(io: CliIo, given?: string): string {
  return given || io.env.PIPELINES_DIR || './pipelines';
}
