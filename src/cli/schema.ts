// `canarybot schema`: the JSON Schema of a definition file, for the YAML language server.

import { definitionJsonSchema } from '../pipelines/json-schema.js';
import { processIo, type CliIo } from './io.js';
import type { CliCommand } from './main.js';

const HELP = `usage: canarybot schema

Prints the JSON Schema of a release pipeline (and release train) definition, generated from the
schema validate uses. Save it and point the YAML language server at it:

  canarybot schema > .canarybot.schema.json
  # yaml-language-server: $schema=.canarybot.schema.json   (first line of pipelines/*.yaml)
`;

export async function runSchema(args: string[], io: CliIo = processIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(HELP);
    return 0;
  }
  if (args.length > 0) {
    io.stderr.write(`canarybot schema: takes no arguments\n\n${HELP}`);
    return 2;
  }
  io.stdout.write(`${JSON.stringify(definitionJsonSchema(), null, 2)}\n`);
  return 0;
}

export const schemaCommand: CliCommand = { summary: 'JSON Schema of a definition (YAML language server)', run: (args) => runSchema(args) };
