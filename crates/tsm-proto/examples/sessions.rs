//! Lists the sessions of the socket directory; with a name argument, kills that session.
//!
//! `cargo run -p tsm-proto --example sessions [NAME]`

use tsm_proto::{SessionStatus, SocketDir};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = SocketDir::from_env();
    for session in tsm_proto::list(&dir)? {
        let state = match &session.status {
            SessionStatus::Live(info) => {
                format!("pid {} clients {} {}", info.pid, info.clients, info.cmd)
            }
            SessionStatus::Stale => "stale (daemon gone)".to_owned(),
            SessionStatus::Busy => "busy (not answering)".to_owned(),
        };
        println!("{:<20} {state}", session.name);
    }
    if let Some(name) = std::env::args().nth(1) {
        let name = dir.session_name(&name)?;
        tsm_proto::kill(&dir.socket_path(&name)?)?;
        println!("killed {name}");
    }
    Ok(())
}
