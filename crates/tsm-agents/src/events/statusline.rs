//! Claude Code's statusline JSON (spec/agents.md §5.1.1): metadata only (model, version,
//! id, cost, tokens, context, cwd), and the line `tsm statusline` prints by default.
//!
//! Any field may be absent or null: `current_usage` is null before the first call and
//! right after `/compact`. Claude hides the statusline during permission prompts, so it
//! never claims a state.

use std::path::Path;

use serde_json::{Map, Value};

use super::{EventError, EventFacts, Fields, Observations};
use crate::types::{Context, MetaDelta, Source, Stamp, Tokens};

/// A statusline payload: one metadata observation.
pub(super) fn interpret(obj: &Map<String, Value>, at: Stamp) -> Result<EventFacts, EventError> {
    let f = Fields(obj);
    let session = f.str("session_id").filter(|id| !id.is_empty()).map(str::to_owned);
    let model = f.object("model");
    let cost = f.object("cost");
    let window = f.object("context_window");
    let usage = window.and_then(|w| w.object("current_usage"));
    let tokens = usage.map(|u| Tokens {
        input: u.u64("input_tokens").unwrap_or(0),
        output: u.u64("output_tokens").unwrap_or(0),
        cache_read: u.u64("cache_read_input_tokens").unwrap_or(0),
        cache_write: u.u64("cache_creation_input_tokens").unwrap_or(0),
    });
    let mut obs = Observations::new(Source::ClaudeStatusline, at);
    obs.meta(MetaDelta {
        agent_session_id: session.clone().map(|id| (id, true)),
        model: model.and_then(|m| m.text("id")),
        version: f.text("version"),
        transcript_path: f.path("transcript_path"),
        cwd: f.path("cwd").or_else(|| f.object("workspace").and_then(|w| w.path("current_dir"))),
        cost_usd: cost.and_then(|c| c.f64("total_cost_usd")).filter(|usd| *usd >= 0.0),
        tokens,
        context: window.and_then(|w| context(w, tokens)),
        ..MetaDelta::default()
    });
    Ok(EventFacts {
        observations: obs.into_vec(),
        agent_session_id: session,
        ..EventFacts::default()
    })
}

/// Context use: `used_percentage` counts input tokens only, so `used` is the input side
/// of `current_usage`; either is derived from the other when one is missing.
fn context(window: Fields<'_>, tokens: Option<Tokens>) -> Option<Context> {
    let size = window.u64("context_window_size").filter(|size| *size > 0)?;
    let pct = window.f64("used_percentage").filter(|pct| *pct >= 0.0);
    let used = tokens.map(|t| t.input.saturating_add(t.cache_read).saturating_add(t.cache_write));
    match (used, pct) {
        (Some(used), Some(pct)) => {
            Some(Context { used, window: size, pct: pct.round().min(100.0) as u32 })
        }
        (Some(used), None) => Some(Context {
            used,
            window: size,
            pct: (used.saturating_mul(100) / size).min(100) as u32,
        }),
        (None, Some(pct)) => {
            let used = (pct / 100.0 * size as f64).round() as u64;
            Some(Context { used, window: size, pct: pct.round().min(100.0) as u32 })
        }
        (None, None) => None,
    }
}

/// The Go tsm's statusline: `[<model.display_name>]`, the basename of
/// `workspace.current_dir` (else `cwd`), `<used_percentage>% context` without decimals,
/// and `$<total_cost_usd>` with two decimals when above zero; two spaces apart, missing
/// parts left out (`[Opus]  work  8% context  $0.01`).
pub fn statusline_line(json: &Value) -> String {
    let Some(obj) = json.as_object() else { return String::new() };
    let f = Fields(obj);
    let mut parts = Vec::new();
    if let Some(name) = f.object("model").and_then(|m| m.text("display_name")) {
        parts.push(format!("[{name}]"));
    }
    let dir = f.object("workspace").and_then(|w| w.str("current_dir")).or_else(|| f.str("cwd"));
    if let Some(base) = dir.and_then(|dir| Path::new(dir).file_name()) {
        parts.push(base.to_string_lossy().into_owned());
    }
    if let Some(pct) = f.object("context_window").and_then(|w| w.f64("used_percentage")) {
        parts.push(format!("{pct:.0}% context"));
    }
    if let Some(usd) =
        f.object("cost").and_then(|c| c.f64("total_cost_usd")).filter(|usd| *usd > 0.0)
    {
        parts.push(format!("${usd:.2}"));
    }
    parts.join("  ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_line_has_every_part_two_spaces_apart() {
        let status = json!({
            "model": {"id": "claude-opus-4-6", "display_name": "Opus"},
            "workspace": {"current_dir": "/home/me/work"},
            "context_window": {"used_percentage": 8.4},
            "cost": {"total_cost_usd": 0.0123},
        });
        assert_eq!(statusline_line(&status), "[Opus]  work  8% context  $0.01");
    }

    #[test]
    fn missing_null_and_zero_parts_are_left_out() {
        assert_eq!(statusline_line(&json!({})), "");
        assert_eq!(statusline_line(&json!([1])), "");
        let status = json!({
            "model": {"display_name": null},
            "workspace": {"current_dir": "/"},
            "context_window": {"used_percentage": null, "current_usage": null},
            "cost": {"total_cost_usd": 0},
            "cwd": "/tmp/proj",
        });
        assert_eq!(statusline_line(&status), "");
        let status = json!({"cwd": "/tmp/proj", "context_window": {"used_percentage": 41.6}});
        assert_eq!(statusline_line(&status), "proj  42% context");
    }

    #[test]
    fn cost_has_two_decimals_and_percentages_none() {
        let status = json!({"model": {"display_name": "Sonnet"}, "cost": {"total_cost_usd": 12.5},
                            "context_window": {"used_percentage": 100}});
        assert_eq!(statusline_line(&status), "[Sonnet]  100% context  $12.50");
    }
}
