/** The webhook secret both the benchmark's server and its load carry. Its own module: importing it from server.ts would run a server inside the load generator. */
export const BENCH_SECRET = 'bench-secret';
