// The rank statistics of R's wilcox.test for two samples: the sum of the first sample's ranks in the
// pooled sample (ties get their average rank, as rank() gives them) and the tie term Σ(t³ − t) of
// the tie correction. Both samples come sorted, so one merge pass does it in O(n + m).

export interface RankSum {
  /** Sum of the ranks of the first sample's values in the pooled sample. */
  rankSum: number;
  /** Σ (t³ − t) over the groups of t equal values in the pooled sample. */
  tieTerm: number;
}

/**
 * Ranks `xs − shift` pooled with `ys`. Both arrays must be sorted ascending; values are compared as
 * computed (`x − shift` rounded), exactly as R ranks `c(x − d, y)`.
 */
export function shiftedRankSum(xs: readonly number[], ys: readonly number[], shift: number): RankSum {
  let i = 0;
  let j = 0;
  let position = 0;
  let rankSum = 0;
  let tieTerm = 0;
  while (i < xs.length || j < ys.length) {
    const nextX = i < xs.length ? (xs[i] as number) - shift : Number.POSITIVE_INFINITY;
    const nextY = j < ys.length ? (ys[j] as number) : Number.POSITIVE_INFINITY;
    const value = Math.min(nextX, nextY);
    let fromX = 0;
    let fromY = 0;
    while (i < xs.length && (xs[i] as number) - shift === value) {
      fromX += 1;
      i += 1;
    }
    while (j < ys.length && ys[j] === value) {
      fromY += 1;
      j += 1;
    }
    const size = fromX + fromY;
    // Positions position+1 … position+size share the average rank.
    const averageRank = position + (size + 1) / 2;
    rankSum += fromX * averageRank;
    tieTerm += size * size * size - size;
    position += size;
  }
  return { rankSum, tieTerm };
}
