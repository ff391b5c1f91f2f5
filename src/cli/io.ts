/** Where a command writes and what environment it sees; tests pass their own. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: Record<string, string | undefined>;
}

export const processIo: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env };

/** The definitions directory: the argument, else PIPELINES_DIR, else ./pipelines. */
export function pipelinesDir(io: CliIo, given?: string): string {
  return given || io.env.PIPELINES_DIR || './pipelines';
}
