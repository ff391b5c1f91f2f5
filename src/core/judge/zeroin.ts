// Brent's root finder as R's `uniroot` runs it (R_zeroin2: bisection, secant and inverse quadratic
// interpolation, Brent 1973, ch. 4). The Mann-Whitney interval's ends are roots of a step function,
// so where in the last bracket the search stops decides the figure: the same steps at the same
// tolerance (R's wilcox.test asks for 1e-4) give the same figures as R and Kayenta.

const EPSILON = 2.220446049250313e-16;

export interface ZeroinOptions {
  /** Absolute tolerance of the root; R's wilcox.test uses 1e-4. */
  tolerance: number;
  /** Most function evaluations; default 1000 as in uniroot. */
  maxIterations?: number;
}

/**
 * A root of `f` in [lower, upper] given f(lower) and f(upper) of opposite signs (or one of them 0).
 * Returns the best approximation when the iterations run out, as R does.
 */
export function zeroin(
  f: (x: number) => number,
  lower: number,
  upper: number,
  fLower: number,
  fUpper: number,
  options: ZeroinOptions,
): number {
  const tol = options.tolerance;
  let a = lower;
  let b = upper;
  let fa = fLower;
  let fb = fUpper;
  let c = a;
  let fc = fa;
  if (fa === 0) return a;
  if (fb === 0) return b;

  for (let left = (options.maxIterations ?? 1000) + 1; left > 0; left--) {
    const previousStep = b - a;
    if (Math.abs(fc) < Math.abs(fb)) {
      // Keep b the best approximation so far, c the other end of the bracket.
      a = b;
      b = c;
      c = a;
      fa = fb;
      fb = fc;
      fc = fa;
    }
    const actualTolerance = 2 * EPSILON * Math.abs(b) + tol / 2;
    let step = (c - b) / 2;
    if (Math.abs(step) <= actualTolerance || fb === 0) return b;

    if (Math.abs(previousStep) >= actualTolerance && Math.abs(fa) > Math.abs(fb)) {
      const cb = c - b;
      let p: number;
      let q: number;
      if (a === c) {
        // Two distinct points: the secant.
        const t1 = fb / fa;
        p = cb * t1;
        q = 1 - t1;
      } else {
        // Three points: inverse quadratic interpolation.
        const qa = fa / fc;
        const t1 = fb / fc;
        const t2 = fb / fa;
        p = t2 * (cb * qa * (qa - t1) - (b - a) * (t1 - 1));
        q = (qa - 1) * (t1 - 1) * (t2 - 1);
      }
      if (p > 0) q = -q;
      else p = -p;
      // Take the interpolated step only when it lands inside the bracket and shrinks it fast enough.
      if (p < 0.75 * cb * q - Math.abs(actualTolerance * q) / 2 && p < Math.abs((previousStep * q) / 2)) step = p / q;
    }
    if (Math.abs(step) < actualTolerance) step = step > 0 ? actualTolerance : -actualTolerance;

    a = b;
    fa = fb;
    b += step;
    fb = f(b);
    if ((fb > 0 && fc > 0) || (fb < 0 && fc < 0)) {
      c = a;
      fc = fa;
    }
  }
  return b;
}
