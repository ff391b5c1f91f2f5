/** One problem in a definition file, located for an editor: `file:line:column: path: message`. */
export interface DefinitionError {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** Field path such as `spec.strategy.canary.steps[0].setWeight`; empty for YAML syntax errors. */
  path: string;
  message: string;
}

export function formatDefinitionError(error: DefinitionError): string {
  const where = `${error.file}:${error.line}:${error.column}`;
  return error.path ? `${where}: ${error.path}: ${error.message}` : `${where}: ${error.message}`;
}

/** `['spec', 'steps', 0, 'setWeight']` → `spec.steps[0].setWeight`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((out, segment) => {
    if (typeof segment === 'number') return `${out}[${segment}]`;
    const name = String(segment);
    const plain = /^[A-Za-z_$][\w$-]*$/.test(name);
    if (!plain) return `${out}[${JSON.stringify(name)}]`;
    return out ? `${out}.${name}` : name;
  }, '');
}
