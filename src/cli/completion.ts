// `canarybot completion bash|zsh`: shell completion for the commands and their options.

import { CliError } from './api-client.js';

const COMMANDS = ['get', 'status', 'describe', 'approve', 'promote', 'abort', 'pause', 'resume', 'retry', 'override-freeze', 'validate', 'plan', 'schema', 'judge', 'serve', 'demo', 'completion'];
const OPTIONS: Record<string, string> = {
  get: '--watch -o --interval',
  status: '--watch -o --interval',
  describe: '-o',
  approve: '--reason',
  promote: '--reason',
  abort: '--reason',
  pause: '--reason',
  resume: '--reason',
  retry: '--reason',
  'override-freeze': '--reason',
  plan: '--dir --image --virtual-service --diff --diff-format --check',
  completion: 'bash zsh',
};

export function completionScript(shell: string): string {
  const cases = Object.entries(OPTIONS)
    .map(([command, words]) => `    ${command}) COMPREPLY=( $(compgen -W "${words}" -- "$cur") ) ;;`)
    .join('\n');
  const bash = `# canarybot bash completion: source <(canarybot completion bash)
_canarybot() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${COMMANDS.join(' ')} --version --help" -- "$cur") )
    return
  fi
  if [ "\${COMP_WORDS[COMP_CWORD-1]}" = "-o" ]; then
    COMPREPLY=( $(compgen -W "wide json yaml" -- "$cur") )
    return
  fi
  if [ "\${COMP_WORDS[COMP_CWORD-1]}" = "--diff-format" ]; then
    COMPREPLY=( $(compgen -W "unified json-patch" -- "$cur") )
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases}
  esac
}
complete -o default -F _canarybot canarybot
`;
  if (shell === 'bash') return bash;
  if (shell === 'zsh') return `#compdef canarybot
# canarybot zsh completion: source <(canarybot completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bash}`;
  throw new CliError('completion takes bash or zsh', 2);
}
