// Gaussian noise for the degenerate case Kayenta handles the same way: both samples constant (each a
// single repeated value, different from the other's) leave the rank test all ties within each side.
// Kayenta adds N(0, value·1e-5) to each side. The noise here is seeded from the samples themselves,
// so the same samples always give the same verdict (the core stays deterministic).

/** A deterministic uniform generator on [0, 1) (mulberry32). */
function uniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seedOf(values: readonly number[]): number {
  let hash = 0x811c9dc5;
  const text = values.join(',');
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** `values` plus N(0, |first value|·scale) noise (Box-Muller), seeded by `values` and `salt`. */
export function withGaussianNoise(values: readonly number[], scale = 1e-5, salt = 0): number[] {
  const sd = Math.abs(values[0] ?? 0) * scale;
  if (sd === 0) return [...values];
  const next = uniform(seedOf(values) ^ salt);
  return values.map((value) => {
    const u1 = 1 - next();
    const u2 = next();
    return value + sd * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  });
}
