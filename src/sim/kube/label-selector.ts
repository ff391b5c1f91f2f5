// The equality- and existence-based label selector syntax of `?labelSelector=` (set-based `in`/`notin` too).

type Requirement = (labels: Record<string, string>) => boolean;

function parseRequirement(term: string): Requirement {
  const set = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
  if (set) {
    const [, key, op, list] = set as unknown as [string, string, string, string];
    const values = list.split(',').map((value) => value.trim());
    return op === 'in'
      ? (labels) => key in labels && values.includes(labels[key] as string)
      : (labels) => !(key in labels) || !values.includes(labels[key] as string);
  }
  const equality = /^([^!=]+?)\s*(==|=|!=)\s*(.*)$/.exec(term);
  if (equality) {
    const [, key, op, value] = equality as unknown as [string, string, string, string];
    return op === '!=' ? (labels) => labels[key] !== value : (labels) => labels[key] === value;
  }
  if (term.startsWith('!')) return (labels) => !(term.slice(1) in labels);
  return (labels) => term in labels;
}

function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of selector) {
    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
    if (char === ',' && depth === 0) {
      terms.push(current.trim());
      current = '';
    } else current += char;
  }
  if (current.trim() !== '') terms.push(current.trim());
  return terms;
}

export function matchesSelector(selector: string | null, labels: Record<string, string>): boolean {
  if (!selector) return true;
  return splitTerms(selector).every((term) => parseRequirement(term)(labels));
}
