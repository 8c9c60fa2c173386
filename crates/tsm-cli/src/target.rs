//! Which sessions a command is about, and the messages users read when one cannot be
//! reached (spec/cli.md, "Conventions"; the Go tsm's texts).

use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};
use tsm_proto::{ClientError, SessionName, SocketDir};

/// A session named on the command line, validated, with its socket path.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// The name.
    pub(crate) name: SessionName,
    /// The socket's path.
    pub(crate) path: PathBuf,
}

impl Target {
    /// Validates `name` for `dir`.
    pub(crate) fn new(dir: &SocketDir, name: &str) -> Result<Target> {
        let name =
            dir.session_name(name).map_err(|e| anyhow!("Invalid session name {name:?}: {e}."))?;
        let path = dir.socket_path(&name)?;
        Ok(Target { name, path })
    }
}

/// The name given, else `$TSM_SESSION`, else a usage error naming `usage`.
pub(crate) fn name_or_current(name: Option<String>, usage: &str) -> Result<String> {
    if let Some(name) = name {
        return Ok(name);
    }
    match std::env::var("TSM_SESSION") {
        Ok(current) if !current.is_empty() => Ok(current),
        _ => bail!("usage: {usage}\nwhen no name is given, TSM_SESSION must be set"),
    }
}

/// Expands `prefix*` patterns against the sessions in `dir`; plain names stay as given.
pub(crate) fn expand_patterns(dir: &SocketDir, patterns: &[String]) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for pattern in patterns {
        match pattern.strip_suffix('*') {
            Some(prefix) => {
                let matches: Vec<String> =
                    dir.session_names()?.into_iter().filter(|n| n.starts_with(prefix)).collect();
                if matches.is_empty() {
                    bail!("No session matches {pattern:?}.\nRun 'tsm ls' to list sessions.");
                }
                names.extend(matches);
            }
            None => names.push(pattern.clone()),
        }
    }
    names.dedup();
    Ok(names)
}

/// The message for a failed `action` ("attach", "kill", ...) on session `name`.
pub(crate) fn action_error(action: &str, name: &str, err: &ClientError) -> anyhow::Error {
    let reason = match err {
        ClientError::NotFound => {
            return anyhow!(
                "Cannot {action} session \"{name}\": session not found.\nRun 'tsm ls' to list sessions."
            );
        }
        ClientError::Refused => {
            return anyhow!(
                "Cannot {action} session \"{name}\": the session socket exists but the daemon is not responding (stale socket).\n\
                 Run 'tsm doctor clean-stale' to remove stale sockets, then recreate or reattach the session."
            );
        }
        ClientError::TimedOut => "the daemon timed out (it is busy or stopped).".to_owned(),
        ClientError::Rejected(text) => format!("{text}."),
        other => format!("{other}."),
    };
    anyhow!(
        "Cannot {action} session \"{name}\": {reason}\nRun 'tsm info {name}' for details, or 'tsm doctor' for a broader health check."
    )
}
