// A unified diff of two texts, line by line (longest common subsequence), with `context` lines
// around each change, as `diff -u` prints it. Plan output only: VirtualServices are a few hundred
// lines at most, so the quadratic table is small.

type Line = { kind: ' ' | '-' | '+'; text: string; oldNo: number; newNo: number };

function editScript(a: string[], b: string[]): Line[] {
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: Line[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) out.push({ kind: ' ', text: a[i++]!, oldNo: i, newNo: ++j });
    // Removals before additions, as diff -u prints a changed line.
    else if (i < a.length && (j >= b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) out.push({ kind: '-', text: a[i++]!, oldNo: i, newNo: j });
    else out.push({ kind: '+', text: b[j++]!, oldNo: i, newNo: j });
  }
  return out;
}

function lines(text: string): string[] {
  const all = text.split('\n');
  if (all.at(-1) === '') all.pop();
  return all;
}

/** `@@ -l,s +l,s @@` hunks under `--- from` / `+++ to`; empty string when the texts are equal. */
export function unifiedDiff(before: string, after: string, labels: { from: string; to: string }, context = 3): string {
  const script = editScript(lines(before), lines(after));
  const changed = script.map((line, index) => (line.kind === ' ' ? -1 : index)).filter((index) => index >= 0);
  if (changed.length === 0) return '';
  const hunks: Array<[number, number]> = [];
  for (const index of changed) {
    const start = Math.max(0, index - context);
    const end = Math.min(script.length - 1, index + context);
    const last = hunks.at(-1);
    if (last && start <= last[1] + 1) last[1] = end;
    else hunks.push([start, end]);
  }
  const out = [`--- ${labels.from}`, `+++ ${labels.to}`];
  for (const [start, end] of hunks) {
    const body = script.slice(start, end + 1);
    const oldCount = body.filter((line) => line.kind !== '+').length;
    const newCount = body.filter((line) => line.kind !== '-').length;
    const first = script[start]!;
    // The first line number of each side in the hunk; for an empty side, the line before it (as diff -u).
    const oldStart = first.kind === '+' && oldCount > 0 ? first.oldNo + 1 : first.oldNo;
    const newStart = first.kind === '-' && newCount > 0 ? first.newNo + 1 : first.newNo;
    out.push(`@@ -${oldStart},${oldCount} +${newStart},${newCount} @@`);
    for (const line of body) out.push(`${line.kind}${line.text}`);
  }
  return `${out.join('\n')}\n`;
}
