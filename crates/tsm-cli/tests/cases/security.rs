//! The socket serves only its owner (and root): another uid that can reach the socket
//! file still gets nothing.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use crate::support::TestDir;

/// Connects to the socket in argv[0], sends an Info request, and says what came back:
/// `connected` then `closed`, `reset`, `got N bytes` or `timeout`.
const PEER_SCRIPT: &str = r#"
use IO::Socket::UNIX;
$SIG{PIPE} = 'IGNORE';
my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $ARGV[0])
    or do { print "connect failed: $!\n"; exit 3 };
print "connected\n";
$s->syswrite("\x06\x00\x00\x00\x00");
$SIG{ALRM} = sub { print "timeout\n"; exit 4 };
alarm 5;
my $buf = '';
my $n = $s->sysread($buf, 1024);
if (!defined $n) { print "reset: $!\n" }
elsif ($n == 0) { print "closed\n" }
else { print "got $n bytes\n" }
"#;

#[test]
fn another_uid_connects_but_gets_no_info() {
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped: needs root to run a client as another uid");
        return;
    }
    let perl = Path::new("/usr/bin/perl");
    if !perl.exists() {
        eprintln!("skipped: no /usr/bin/perl to act as the other uid's client");
        return;
    }
    let dir = TestDir::new();
    dir.new_shell("mine");
    // Let uid 65534 reach the socket file: only the daemon's peer check stands in the way.
    for path in [dir.root(), dir.path()] {
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    }
    fs::set_permissions(dir.socket("mine"), fs::Permissions::from_mode(0o666)).unwrap();

    let mut cmd = Command::new(perl);
    cmd.arg("-e").arg(PEER_SCRIPT).arg(dir.socket("mine")).uid(65534).gid(65534);
    cmd.env_clear().current_dir("/");
    let run = dir.run_command(cmd, "perl as uid 65534");
    dir.check(run.stdout.starts_with("connected\n"), || {
        format!("uid 65534 could not even connect (test setup?): {run:?}")
    });
    dir.check(run.stdout.contains("closed") || run.stdout.contains("reset"), || {
        format!("uid 65534 was served: {run:?}")
    });

    // The owner still is.
    assert!(dir.info("mine").pid > 0);
}
