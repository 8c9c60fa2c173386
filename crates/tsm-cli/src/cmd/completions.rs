//! `tsm completions bash|zsh|fish`: clap's static script, plus completion of session
//! names (from `tsm ls --short`) for the arguments that name an existing session.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

/// Commands (and aliases) whose positional arguments name existing sessions.
const SESSION_COMMANDS: &str = "attach a detach d kill k rename mv info history hi run r send s tail t wait w write label get set clear";

/// Prints the completion script for `shell`.
pub(crate) fn run(shell: Shell) -> Result<ExitCode> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "tsm", &mut script);
    let script = String::from_utf8(script)?;
    let out = match shell {
        Shell::Bash => format!("{script}\n{}", bash_sessions()),
        Shell::Zsh => zsh_with_sessions(&script),
        Shell::Fish => format!("{script}\n{}", fish_sessions()),
        _ => script,
    };
    std::io::stdout().write_all(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// Wraps clap's bash function: after it, session names are offered for positional words.
fn bash_sessions() -> String {
    format!(
        r#"_tsm_with_sessions() {{
    _tsm "$@"
    local cur="${{COMP_WORDS[COMP_CWORD]}}"
    case " {SESSION_COMMANDS} " in
        *" ${{COMP_WORDS[1]}} "*)
            if [[ $COMP_CWORD -ge 2 && "$cur" != -* ]]; then
                COMPREPLY+=($(compgen -W "$(tsm ls --short 2>/dev/null)" -- "$cur"))
            fi ;;
    esac
}}
complete -F _tsm_with_sessions -o bashdefault -o default tsm
"#
    )
}

/// Completes session names in zsh for the arguments whose help says they name one.
fn zsh_with_sessions(script: &str) -> String {
    let helper = "_tsm_sessions() {\n    local -a sessions\n    sessions=(${(f)\"$(tsm ls --short 2>/dev/null)\"})\n    _describe 'session' sessions\n}\n";
    let mut out = String::with_capacity(script.len() + helper.len());
    for (i, line) in script.lines().enumerate() {
        let names_session =
            ["-- The session (", "-- The session.:", "-- Sessions", "-- The current name"]
                .iter()
                .any(|marker| line.contains(marker));
        if names_session {
            out.push_str(&line.replacen(":_default'", ":_tsm_sessions'", 1));
        } else {
            out.push_str(line);
        }
        out.push('\n');
        if i == 0 {
            out.push_str(helper); // after `#compdef tsm`
        }
    }
    out
}

/// Session names for fish, after the session-naming subcommands.
fn fish_sessions() -> String {
    format!(
        "complete -c tsm -n \"__fish_seen_subcommand_from {SESSION_COMMANDS}\" -f -a \"(tsm ls --short 2>/dev/null)\"\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zsh_completes_sessions_where_a_session_is_named() {
        let mut script = Vec::new();
        clap_complete::generate(Shell::Zsh, &mut Cli::command(), "tsm", &mut script);
        let out = zsh_with_sessions(&String::from_utf8(script).unwrap());
        assert!(out.starts_with("#compdef tsm\n_tsm_sessions() {"));
        let kill_line = out.lines().find(|l| l.contains("Sessions to end")).unwrap();
        assert!(kill_line.ends_with(":_tsm_sessions' \\"), "{kill_line}");
        // `new` creates a name: no completion of existing sessions there.
        let new_line = out.lines().find(|l| l.contains("Name of the new session")).unwrap();
        assert!(new_line.contains(":_default'"), "{new_line}");
    }
}
