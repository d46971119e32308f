// topo completion bash: a bash completion script, written from the CLI11 app itself so that
// every subcommand and option topo has is completed, and none it lacks. Lab names (after
// --lab) and lab namespaces (topo exec's NS) come from `topo list`; FILE arguments fall
// back to bash's file completion.
#include <fmt/format.h>

#include <map>
#include <memory>

#include "cli/commands.h"

namespace topo::cli {
namespace {

// The values --format takes, per subcommand (the IsMember lists of each command's file).
const std::map<std::string, std::string> kFormats = {
    {"plan", "text json shell"}, {"show", "text json"}, {"graph", "text dot mermaid"}};

std::string script(CLI::App& app) {
  std::string commands, options;
  for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    std::string name = sub->get_name();
    commands += (commands.empty() ? "" : " ") + name;
    std::string opts = "--help";
    for (const CLI::Option* o : sub->get_options()) {
      if (!o->nonpositional() || o->get_name() == "--help") continue;
      for (const std::string& s : o->get_snames()) opts += " -" + s;
      for (const std::string& l : o->get_lnames()) opts += " --" + l;
    }
    options += fmt::format("    {}) opts=\"{}\" ;;\n", name, opts);
  }
  std::string formats;
  for (const auto& [cmd, values] : kFormats) formats += fmt::format("      {}) words=\"{}\" ;;\n", cmd, values);
  return fmt::format(R"sh(# bash completion for topo, written by `topo completion bash`.
# Install: topo completion bash > /etc/bash_completion.d/topo   (or source it from ~/.bashrc)
_topo() {{
  local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}}
  local topo=${{COMP_WORDS[0]}} cmd= at=0 i opts words
  COMPREPLY=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${{COMP_WORDS[i]}} in
      -*) ;;
      *) cmd=${{COMP_WORDS[i]}}; at=$i; break ;;
    esac
  done
  if [[ -z $cmd ]]; then
    COMPREPLY=($(compgen -W "{} --help --version" -- "$cur"))
    return
  fi
  if [[ $cmd == exec ]]; then
    # exec NS [--] CMD ARGS...: the word after NS (and its --) is a command's name, the
    # words after it the command's own (files, by default).
    for ((i = at + 1; i < COMP_CWORD; i++)); do
      [[ ${{COMP_WORDS[i]}} == -* ]] && continue
      ((i + 1 < COMP_CWORD)) && [[ ${{COMP_WORDS[i + 1]}} == -- ]] && ((i++))
      ((i + 1 == COMP_CWORD)) && COMPREPLY=($(compgen -c -- "$cur"))
      return
    done
  fi
  case $prev in
    --format)
      case $cmd in
{}      esac
      COMPREPLY=($(compgen -W "$words" -- "$cur"))
      return ;;
    --lab)
      COMPREPLY=($(compgen -W "$("$topo" list --names 2>/dev/null)" -- "$cur"))
      return ;;
    -j|--jobs) return ;;
  esac
  case $cmd in
{}    *) opts=--help ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    return
  fi
  case $cmd in
    exec)
      # The namespace is the first word after exec that is not an option.
      for ((i = at + 1; i < COMP_CWORD; i++)); do [[ ${{COMP_WORDS[i]}} == -* ]] || return; done
      COMPREPLY=($(compgen -W "$("$topo" list --namespaces 2>/dev/null)" -- "$cur")) ;;
    completion) COMPREPLY=($(compgen -W "bash" -- "$cur")) ;;
  esac
}}
complete -o default -F _topo topo
)sh",
                     commands, formats, options);
}

}  // namespace

void register_completion(CLI::App& app, int& exit_code) {
  auto shell = std::make_shared<std::string>();
  CLI::App* sub = app.add_subcommand("completion", "Print a shell completion script (bash).");
  sub->add_option("shell", *shell, "The shell: bash")->required()->check(CLI::IsMember({"bash"}))->type_name("SHELL");
  sub->footer(
      "Completes subcommands, their options, --format values, lab names after --lab and lab\n"
      "namespaces for topo exec.\n"
      "Example: topo completion bash > /etc/bash_completion.d/topo");
  sub->callback([shell, &app, &exit_code] {  // the option writes into *shell: keep it alive
    fmt::print("{}", script(app));
    exit_code = kExitOk;
  });
}

}  // namespace topo::cli
