//! The systems under test (tsm and its peers) and how each one starts a session, attaches
//! a client in a user terminal, detaches it and names its daemon.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use crate::e2e::procfs;
use crate::e2e::sandbox::Sandbox;
use crate::e2e::terminal::{TERMINAL_SIZE, Terminal};

/// tsm's and dtach's detach key, Ctrl-\.
const CTRL_BACKSLASH: u8 = 0x1c;
/// tmux's prefix key, Ctrl-b (then `d` detaches).
const CTRL_B: u8 = 0x02;
/// How long a client may take to exit after its detach key.
const DETACH_TIMEOUT: Duration = Duration::from_secs(10);
/// tmux's configuration: no status line, so its window is the full 200x50 like every
/// other system's, and no status clock that redraws and wakes the server.
const TMUX_CONF: &str = "set -g status off\n";

/// One system: the raw PTY reference, tsm, or a peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum System {
    /// The program run directly in the user terminal: one PTY hop, the physical limit.
    Raw,
    /// tsm: `tsm new`, then `tsm attach`.
    Tsm,
    /// dtach: `dtach -c` (create and attach), `dtach -a` to re-attach.
    Dtach,
    /// tmux: `new-session -d`, then `attach`, on a private socket (`-S`).
    Tmux,
}

impl fmt::Display for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            System::Raw => "raw PTY",
            System::Tsm => "tsm",
            System::Dtach => "dtach",
            System::Tmux => "tmux",
        })
    }
}

/// Where the systems' programs are, found once at start.
#[derive(Debug)]
pub(crate) struct Tools {
    /// The tsm binary.
    pub(crate) tsm: PathBuf,
    /// `tsm version`'s first line.
    pub(crate) tsm_version: String,
    /// dtach on `PATH`, if installed.
    pub(crate) dtach: Option<PathBuf>,
    /// tmux on `PATH`, if installed.
    pub(crate) tmux: Option<PathBuf>,
    /// `tmux -V`, if installed.
    pub(crate) tmux_version: Option<String>,
}

impl Tools {
    /// Finds tsm (`$TSM`, else `tsm` next to this executable), dtach and tmux (`PATH`).
    pub(crate) fn detect() -> Result<Tools> {
        let tsm = match std::env::var_os("TSM") {
            Some(path) => PathBuf::from(path),
            None => {
                let exe = std::env::current_exe().context("cannot find this executable")?;
                exe.with_file_name("tsm")
            }
        };
        if !tsm.is_file() {
            bail!(
                "no tsm binary at {}: run `cargo build --release -p tsm-cli` or set TSM",
                tsm.display()
            );
        }
        let tsm_version =
            first_line(&tsm, &["version"]).unwrap_or_else(|| "tsm (version ?)".into());
        let tmux = find_in_path("tmux");
        let tmux_version = tmux.as_deref().and_then(|t| first_line(t, &["-V"]));
        Ok(Tools { tsm, tsm_version, dtach: find_in_path("dtach"), tmux, tmux_version })
    }

    /// Whether `system` can run here.
    pub(crate) fn installed(&self, system: System) -> bool {
        match system {
            System::Raw | System::Tsm => true,
            System::Dtach => self.dtach.is_some(),
            System::Tmux => self.tmux.is_some(),
        }
    }

    /// Those of `systems` that are installed, in order.
    pub(crate) fn available(&self, systems: &[System]) -> Vec<System> {
        systems.iter().copied().filter(|&s| self.installed(s)).collect()
    }
}

/// One system set up in its own [`Sandbox`]: sessions, clients and daemons, all of them
/// killed when the instance is dropped.
#[derive(Debug)]
pub(crate) struct Instance {
    /// Which system.
    pub(crate) system: System,
    /// Its program (`None` for the raw PTY).
    program: Option<PathBuf>,
    /// Its directory, environment and process sweep.
    sandbox: Sandbox,
}

impl Instance {
    /// Prepares `system` in a fresh sandbox (for tmux, with its configuration file).
    pub(crate) fn new(tools: &Tools, system: System) -> Result<Instance> {
        let program = match system {
            System::Raw => None,
            System::Tsm => Some(tools.tsm.clone()),
            System::Dtach => tools.dtach.clone(),
            System::Tmux => tools.tmux.clone(),
        };
        if system != System::Raw && program.is_none() {
            bail!("{system} is not installed");
        }
        let label = system.to_string().replace(' ', "-");
        let sandbox = Sandbox::new(&label)?;
        if system == System::Tmux {
            let conf = sandbox.file("tmux.conf");
            std::fs::write(&conf, TMUX_CONF)
                .with_context(|| format!("cannot write {}", conf.display()))?;
        }
        Ok(Instance { system, program, sandbox })
    }

    /// The sandbox: for files the sessions read.
    pub(crate) fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// A new user terminal with a client attached to a new session `name` running
    /// `command` (empty: the shell). For the raw PTY, `command` runs in the terminal itself.
    pub(crate) fn open_session(&self, name: &str, command: &[&str]) -> Result<Terminal> {
        let shell = ["/bin/sh"];
        let command = if command.is_empty() { &shell[..] } else { command };
        match self.system {
            System::Raw => Terminal::spawn(&self.sandbox, command),
            System::Tsm => {
                let mut args = vec!["new", name];
                if command != shell {
                    args.push("--");
                    args.extend_from_slice(command);
                }
                self.run(&args)?;
                self.attach(name)
            }
            System::Dtach => {
                let socket = self.dtach_socket(name);
                let mut argv: Vec<&OsStr> = vec![self.program()?.as_os_str(), "-c".as_ref()];
                argv.extend([socket.as_os_str(), "-r".as_ref(), "winch".as_ref(), "-z".as_ref()]);
                argv.extend(command.iter().map(OsStr::new));
                Terminal::spawn(&self.sandbox, &argv)
            }
            System::Tmux => {
                let rows = TERMINAL_SIZE.rows.to_string();
                let cols = TERMINAL_SIZE.cols.to_string();
                let mut args = vec!["new-session", "-d", "-s", name, "-x", &cols, "-y", &rows];
                if command != shell {
                    args.extend_from_slice(command);
                }
                self.run_tmux(&args)?;
                self.attach(name)
            }
        }
    }

    /// A new user terminal with a client attached to the existing session `name`.
    pub(crate) fn attach(&self, name: &str) -> Result<Terminal> {
        let program = self.program()?.as_os_str();
        match self.system {
            System::Raw => bail!("the raw PTY has no sessions to attach to"),
            System::Tsm => {
                Terminal::spawn(&self.sandbox, &[program, "attach".as_ref(), name.as_ref()])
            }
            System::Dtach => {
                let socket = self.dtach_socket(name);
                let argv = [
                    program,
                    "-a".as_ref(),
                    socket.as_os_str(),
                    "-r".as_ref(),
                    "winch".as_ref(),
                    "-z".as_ref(),
                ];
                Terminal::spawn(&self.sandbox, &argv)
            }
            System::Tmux => {
                let mut argv = self.tmux_argv();
                argv.extend(["attach".into(), "-t".into(), name.into()]);
                Terminal::spawn(&self.sandbox, &argv)
            }
        }
    }

    /// Detaches the client in `terminal` with the system's detach key (once the client has
    /// made the terminal raw, so it reads keys) and waits until the client has exited.
    pub(crate) fn detach(&self, terminal: &mut Terminal) -> Result<()> {
        let keys: &[u8] = match self.system {
            System::Raw => bail!("the raw PTY cannot detach"),
            System::Tsm | System::Dtach => &[CTRL_BACKSLASH],
            System::Tmux => &[CTRL_B, b'd'],
        };
        terminal.wait_raw(Instant::now() + DETACH_TIMEOUT).context("detach")?;
        terminal.send(keys)?;
        terminal.wait_exit(Instant::now() + DETACH_TIMEOUT).context("detach")
    }

    /// The pid of the process that serves session `name`: tsm's daemon, dtach's master,
    /// the tmux server.
    pub(crate) fn daemon_pid(&self, name: &str) -> Result<i32> {
        match self.system {
            System::Raw => bail!("the raw PTY has no daemon"),
            System::Tsm => {
                let output = self.run(&["info", name, "--json"])?;
                let info: serde_json::Value =
                    serde_json::from_slice(&output).context("`tsm info --json` printed no JSON")?;
                let pid =
                    info["daemon_pid"].as_i64().context("`tsm info --json` has no daemon_pid")?;
                Ok(pid as i32)
            }
            System::Dtach => {
                // Clients and the master share the command line; the master (it called
                // setsid) is the one without a controlling terminal.
                let socket = self.dtach_socket(name);
                let masters: Vec<i32> = procfs::pids_with_arg(&socket)
                    .into_iter()
                    .filter(|&pid| procfs::has_controlling_tty(pid) == Some(false))
                    .collect();
                match masters[..] {
                    [pid] => Ok(pid),
                    _ => bail!(
                        "expected one dtach master for {}, found {masters:?}",
                        socket.display()
                    ),
                }
            }
            System::Tmux => {
                let output = self.run_tmux(&["display-message", "-p", "-t", name, "#{pid}"])?;
                let text = String::from_utf8_lossy(&output);
                text.trim().parse().with_context(|| format!("tmux printed {text:?} for its pid"))
            }
        }
    }

    /// Ends session `name` (for dtach, kills its master; for the raw PTY, nothing: the
    /// terminal's drop ends the program).
    pub(crate) fn end_session(&self, name: &str) -> Result<()> {
        match self.system {
            System::Raw => Ok(()),
            System::Tsm => self.run(&["kill", name]).map(drop),
            System::Dtach => {
                for pid in procfs::pids_with_arg(&self.dtach_socket(name)) {
                    let _ = procfs::signal(pid, rustix::process::Signal::KILL);
                }
                Ok(())
            }
            System::Tmux => self.run_tmux(&["kill-session", "-t", name]).map(drop),
        }
    }

    /// Runs the system's program with `args` (tsm: a command; tmux: use `run_tmux`) and
    /// returns its stdout.
    pub(crate) fn run(&self, args: &[&str]) -> Result<Vec<u8>> {
        Ok(self.sandbox.run(self.program()?.as_os_str(), args)?.stdout)
    }

    /// Runs tmux on this instance's socket and configuration, and returns its stdout.
    pub(crate) fn run_tmux(&self, args: &[&str]) -> Result<Vec<u8>> {
        let mut argv = self.tmux_argv();
        argv.extend(args.iter().map(OsString::from));
        Ok(self.sandbox.run(&argv[0], &argv[1..])?.stdout)
    }

    /// `tmux -S SOCKET -f CONF`.
    fn tmux_argv(&self) -> Vec<OsString> {
        let program = self.program.clone().unwrap_or_default();
        let socket = self.sandbox.file("tmux.sock");
        let conf = self.sandbox.file("tmux.conf");
        vec![program.into(), "-S".into(), socket.into(), "-f".into(), conf.into()]
    }

    /// dtach's socket for session `name`.
    fn dtach_socket(&self, name: &str) -> PathBuf {
        self.sandbox.file(&format!("{name}.dtach"))
    }

    /// The system's program.
    fn program(&self) -> Result<&Path> {
        self.program.as_deref().with_context(|| format!("{} has no program", self.system))
    }
}

/// The first line `program args` prints, if it runs.
fn first_line(program: &Path, args: &[&str]) -> Option<String> {
    let output = std::process::Command::new(program).args(args).output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    Some(text.lines().next()?.trim().to_owned())
}

/// `name` in a directory of `PATH`, if it is a file there.
fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file())
}
