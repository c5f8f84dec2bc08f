import type { Command } from "commander";
import type { Deps } from "../deps.ts";
import { choiceArg } from "./parse.ts";
import type { Register } from "./register.ts";

interface Node {
  names: string[];
  options: string[];
  children: Node[];
}

function tree(cmd: Command): Node {
  return {
    names: [cmd.name(), ...cmd.aliases()],
    options: cmd.options.map((o) => o.long ?? o.short ?? "").filter((o) => o !== ""),
    children: cmd.commands.map(tree),
  };
}

function bashScript(root: Node): string {
  const cases: string[] = [];
  const global = root.options.join(" ");
  for (const verb of root.children) {
    const words = [...verb.children.flatMap((c) => c.names), ...verb.options, "--help"].join(" ");
    cases.push(`    ${verb.names.join("|")}) words="${words}" ;;`);
    for (const sub of verb.children) {
      cases.push(
        `    ${verb.names[0]}:${sub.names.join(`|${verb.names[0]}:`)}) words="${[...sub.options, "--help"].join(" ")}" ;;`,
      );
    }
  }
  return `# kanban bash completion: eval "$(kanban completion bash)"
_kanban() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" verb="" sub="" i w
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in
      --board) ((i++)) ;;
      -*) ;;
      *) if [[ -z "$verb" ]]; then verb="$w"; elif [[ -z "$sub" ]]; then sub="$w"; fi ;;
    esac
  done
  local words key="$verb"
  case " ${root.children
    .filter((c) => c.children.length > 0)
    .flatMap((c) => c.names)
    .join(" ")} " in *" $verb "*) [[ -n "$sub" ]] && key="$verb:$sub" ;; esac
  case "$key" in
    "") words="${root.children.flatMap((c) => c.names).join(" ")} ${global} --help" ;;
${cases.join("\n")}
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _kanban kanban
`;
}

function zshScript(root: Node): string {
  return `#compdef kanban
# kanban zsh completion: eval "$(kanban completion zsh)"
autoload -U bashcompinit && bashcompinit
${bashScript(root)}`;
}

export async function runCompletion(deps: Deps, shell: "bash" | "zsh", program: Command): Promise<number> {
  const root = tree(program);
  deps.io.out((shell === "bash" ? bashScript(root) : zshScript(root)).trimEnd());
  return 0;
}

export const registerCompletion: Register = (program, act) => {
  program
    .command("completion")
    .summary("print a shell completion script")
    .description('Print a completion script: eval "$(kanban completion bash)" (or zsh) in your shell profile.')
    .argument("<shell>", "bash or zsh", choiceArg(["bash", "zsh"] as const))
    .action(act((deps, shell: "bash" | "zsh") => runCompletion(deps, shell, program)));
};
