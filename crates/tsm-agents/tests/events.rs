//! The structured-event fixtures (spec/agents.md §8.2, groups 25 to 28): every payload
//! under `fixtures/events/` goes through the AgentEvent envelope and `interpret` (or
//! `parse_registry` and `registry_observations`), and must give exactly the observations
//! and facts of its `.expect.toml`.
//!
//! `.expect.toml` keys: `source` (the envelope source; by folder for `claude-hooks` and
//! `claude-statusline`), `error = true` (the payload is refused), `event_name`,
//! `session_id`, `subagent`, `recheck_process`, `permission_request = { tool, detail }`,
//! `at_unix_ms` (every observation's stamp; default the send time, `now` for registry
//! files), `line` (statusline only: `statusline_line`), `[registry]` (the parsed file),
//! and `[[obs]]`, in order, each with one of `state`, `confirm`, `hint` or `meta`. States
//! take `tool`, `detail`, `spinner`, `background_shells`, `background_agents`, `input`,
//! `error`, `text`, `unseen`; `confidence` defaults to `exact`. A key left out means
//! "absent" (`None`), never "anything".

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde::Deserialize;
use tsm_agents::events::{MAX_EVENT_PAYLOAD_LEN, RolloutTail, TranscriptTail};
use tsm_agents::{
    Activity, AgentState, Claim, Confidence, Context, ErrorKind, EventSource, Hint, HookEnvelope,
    InputKind, MetaDelta, Observation, RegistryEntry, Stamp, Tokens, decode_envelope,
    encode_envelope, interpret, parse_registry, registry_observations, statusline_line,
};

/// When `tsm hook` started, in every fixture.
const SENT_UNIX_MS: i64 = 1_767_201_011_000;

/// When the daemon received the event: 250 ms later.
const NOW: Stamp = Stamp { mono_ms: 1_000_000, unix_ms: SENT_UNIX_MS + 250 };

macro_rules! fixtures {
    ($($name:ident => $case:literal,)*) => {
        $(
            #[test]
            fn $name() {
                check($case);
            }
        )*

        /// Every case above, as `<folder>/<case>`.
        const LISTED: &[&str] = &[$($case),*];
    };
}

fixtures! {
    claude_hooks_elicitation => "claude-hooks/elicitation",
    claude_hooks_malformed => "claude-hooks/malformed",
    claude_hooks_missing_event_name => "claude-hooks/missing-event-name",
    claude_hooks_not_an_object => "claude-hooks/not-an-object",
    claude_hooks_notification_agent_completed => "claude-hooks/notification-agent-completed",
    claude_hooks_notification_agent_needs_input => "claude-hooks/notification-agent-needs-input",
    claude_hooks_notification_auth_success => "claude-hooks/notification-auth-success",
    claude_hooks_notification_elicitation_complete => "claude-hooks/notification-elicitation-complete",
    claude_hooks_notification_elicitation_dialog => "claude-hooks/notification-elicitation-dialog",
    claude_hooks_notification_elicitation_response => "claude-hooks/notification-elicitation-response",
    claude_hooks_notification_elicitation_url_dialog => "claude-hooks/notification-elicitation-url-dialog",
    claude_hooks_notification_idle_prompt => "claude-hooks/notification-idle-prompt",
    claude_hooks_notification_permission_prompt => "claude-hooks/notification-permission-prompt",
    claude_hooks_notification_unknown_type => "claude-hooks/notification-unknown-type",
    claude_hooks_permission_request_ask_user_question => "claude-hooks/permission-request-ask-user-question",
    claude_hooks_permission_request_bash => "claude-hooks/permission-request-bash",
    claude_hooks_permission_request_edit => "claude-hooks/permission-request-edit",
    claude_hooks_post_tool_use_failure_interrupt => "claude-hooks/post-tool-use-failure-interrupt",
    claude_hooks_post_tool_use_failure => "claude-hooks/post-tool-use-failure",
    claude_hooks_post_tool_use => "claude-hooks/post-tool-use",
    claude_hooks_pre_compact => "claude-hooks/pre-compact",
    claude_hooks_pre_tool_use_ask_user_question => "claude-hooks/pre-tool-use-ask-user-question",
    claude_hooks_pre_tool_use_bash => "claude-hooks/pre-tool-use-bash",
    claude_hooks_session_end_clear => "claude-hooks/session-end-clear",
    claude_hooks_session_end_logout => "claude-hooks/session-end-logout",
    claude_hooks_session_end_other => "claude-hooks/session-end-other",
    claude_hooks_session_end_prompt_input_exit => "claude-hooks/session-end-prompt-input-exit",
    claude_hooks_session_end_resume => "claude-hooks/session-end-resume",
    claude_hooks_session_start_clear => "claude-hooks/session-start-clear",
    claude_hooks_session_start_compact => "claude-hooks/session-start-compact",
    claude_hooks_session_start_fork => "claude-hooks/session-start-fork",
    claude_hooks_session_start_resume => "claude-hooks/session-start-resume",
    claude_hooks_session_start_startup => "claude-hooks/session-start-startup",
    claude_hooks_stop_background_tasks_all_completed => "claude-hooks/stop-background-tasks-all-completed",
    claude_hooks_stop_background_tasks => "claude-hooks/stop-background-tasks",
    claude_hooks_stop_failure_authentication_failed => "claude-hooks/stop-failure-authentication-failed",
    claude_hooks_stop_failure_billing_error => "claude-hooks/stop-failure-billing-error",
    claude_hooks_stop_failure_invalid_request => "claude-hooks/stop-failure-invalid-request",
    claude_hooks_stop_failure_max_output_tokens => "claude-hooks/stop-failure-max-output-tokens",
    claude_hooks_stop_failure_model_not_found => "claude-hooks/stop-failure-model-not-found",
    claude_hooks_stop_failure_oauth_org_not_allowed => "claude-hooks/stop-failure-oauth-org-not-allowed",
    claude_hooks_stop_failure_overloaded => "claude-hooks/stop-failure-overloaded",
    claude_hooks_stop_failure_rate_limit => "claude-hooks/stop-failure-rate-limit",
    claude_hooks_stop_failure_server_error => "claude-hooks/stop-failure-server-error",
    claude_hooks_stop_failure_unknown => "claude-hooks/stop-failure-unknown",
    claude_hooks_stop_without_background_tasks_field => "claude-hooks/stop-without-background-tasks-field",
    claude_hooks_stop => "claude-hooks/stop",
    claude_hooks_subagent_pre_tool_use => "claude-hooks/subagent-pre-tool-use",
    claude_hooks_subagent_start => "claude-hooks/subagent-start",
    claude_hooks_subagent_stop_hook => "claude-hooks/subagent-stop-hook",
    claude_hooks_subagent_stop => "claude-hooks/subagent-stop",
    claude_hooks_unknown_event => "claude-hooks/unknown-event",
    claude_hooks_user_prompt_submit => "claude-hooks/user-prompt-submit",
    claude_hooks_wrong_field_types => "claude-hooks/wrong-field-types",
    claude_registry_empty => "claude-registry/empty",
    claude_registry_half_written => "claude-registry/half-written",
    claude_registry_idle => "claude-registry/idle",
    claude_registry_missing_status => "claude-registry/missing-status",
    claude_registry_no_pid => "claude-registry/no-pid",
    claude_registry_pid_out_of_range => "claude-registry/pid-out-of-range",
    claude_registry_proc_start_number => "claude-registry/proc-start-number",
    claude_registry_resume_rewrites_session_id => "claude-registry/resume-rewrites-session-id",
    claude_registry_v2_1_173_busy => "claude-registry/v2-1-173-busy",
    claude_registry_waiting_approve_bash => "claude-registry/waiting-approve-bash",
    claude_registry_waiting_approve_mcp_tool => "claude-registry/waiting-approve-mcp-tool",
    claude_registry_waiting_dialog_open => "claude-registry/waiting-dialog-open",
    claude_registry_waiting_input_needed => "claude-registry/waiting-input-needed",
    claude_registry_waiting_permission_prompt => "claude-registry/waiting-permission-prompt",
    claude_registry_waiting_sandbox_request => "claude-registry/waiting-sandbox-request",
    claude_registry_waiting_something_new => "claude-registry/waiting-something-new",
    claude_registry_waiting_without_waiting_for => "claude-registry/waiting-without-waiting-for",
    claude_registry_waiting_worker_request => "claude-registry/waiting-worker-request",
    claude_statusline_after_compact => "claude-statusline/after-compact",
    claude_statusline_all_null => "claude-statusline/all-null",
    claude_statusline_full => "claude-statusline/full",
    claude_statusline_malformed => "claude-statusline/malformed",
    claude_statusline_minimal_before_first_call => "claude-statusline/minimal-before-first-call",
    claude_statusline_without_extras => "claude-statusline/without-extras",
    codex_hook_null_transcript_path => "codex/hook-null-transcript-path",
    codex_hook_permission_request => "codex/hook-permission-request",
    codex_hook_post_compact => "codex/hook-post-compact",
    codex_hook_post_tool_use_apply_patch => "codex/hook-post-tool-use-apply-patch",
    codex_hook_pre_compact => "codex/hook-pre-compact",
    codex_hook_pre_tool_use_turn_id => "codex/hook-pre-tool-use-turn-id",
    codex_hook_session_start => "codex/hook-session-start",
    codex_hook_stop => "codex/hook-stop",
    codex_hook_unknown_event => "codex/hook-unknown-event",
    codex_hook_user_prompt_submit => "codex/hook-user-prompt-submit",
    codex_notify_agent_turn_complete => "codex/notify-agent-turn-complete",
    codex_notify_approval_requested => "codex/notify-approval-requested",
    codex_notify_malformed => "codex/notify-malformed",
    codex_notify_minimal => "codex/notify-minimal",
    gemini_after_agent => "gemini/after-agent",
    gemini_after_tool => "gemini/after-tool",
    gemini_before_agent => "gemini/before-agent",
    gemini_before_model => "gemini/before-model",
    gemini_before_tool => "gemini/before-tool",
    gemini_not_an_object => "gemini/not-an-object",
    gemini_notification_tool_permission_ask_user => "gemini/notification-tool-permission-ask-user",
    gemini_notification_tool_permission_edit => "gemini/notification-tool-permission-edit",
    gemini_notification_tool_permission_exec => "gemini/notification-tool-permission-exec",
    gemini_notification_tool_permission_mcp => "gemini/notification-tool-permission-mcp",
    gemini_pre_compress => "gemini/pre-compress",
    gemini_session_end_clear => "gemini/session-end-clear",
    gemini_session_end_exit => "gemini/session-end-exit",
    gemini_session_start => "gemini/session-start",
    gemini_timestamp_in_the_future => "gemini/timestamp-in-the-future",
    gemini_unknown_event => "gemini/unknown-event",
    gemini_without_timestamp => "gemini/without-timestamp",
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    source: Option<String>,
    #[serde(default)]
    error: bool,
    event_name: Option<String>,
    session_id: Option<String>,
    #[serde(default)]
    subagent: bool,
    #[serde(default)]
    recheck_process: bool,
    permission_request: Option<ExpectPermission>,
    at_unix_ms: Option<i64>,
    line: Option<String>,
    registry: Option<ExpectRegistry>,
    #[serde(default)]
    obs: Vec<ExpectObs>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectPermission {
    tool: String,
    detail: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectRegistry {
    pid: u32,
    session_id: Option<String>,
    cwd: Option<PathBuf>,
    status: Option<String>,
    waiting_for: Option<String>,
    version: Option<String>,
    proc_start: Option<String>,
    updated_at: Option<i64>,
    status_updated_at: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectObs {
    state: Option<String>,
    confirm: Option<String>,
    hint: Option<String>,
    meta: Option<ExpectMeta>,
    confidence: Option<Confidence>,
    tool: Option<String>,
    detail: Option<String>,
    spinner: Option<String>,
    #[serde(default)]
    background_shells: u32,
    #[serde(default)]
    background_agents: u32,
    input: Option<String>,
    error: Option<String>,
    text: Option<String>,
    unseen: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectMeta {
    agent_session_id: Option<String>,
    #[serde(default = "yes")]
    verified: bool,
    version: Option<String>,
    model: Option<String>,
    permission_mode: Option<String>,
    transcript_path: Option<PathBuf>,
    cwd: Option<PathBuf>,
    cost_usd: Option<f64>,
    tokens: Option<Tokens>,
    context: Option<Context>,
    last_prompt: Option<String>,
    last_message: Option<String>,
    #[serde(default)]
    subagents_delta: i32,
}

fn yes() -> bool {
    true
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/events")
}

/// Runs one fixture and compares everything its `.expect.toml` states.
fn check(case: &str) {
    let dir = fixtures_dir();
    let payload = std::fs::read(dir.join(format!("{case}.json"))).expect("fixture payload");
    let text =
        std::fs::read_to_string(dir.join(format!("{case}.expect.toml"))).expect("expect file");
    let expect: Expect =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{case}.expect.toml: {e}"));
    let folder = case.split('/').next().unwrap();

    if folder == "claude-registry" {
        let entry = match parse_registry(&payload) {
            Err(err) => {
                assert!(expect.error, "{case}: refused ({err}) but no `error = true`");
                return;
            }
            Ok(_) if expect.error => panic!("{case}: accepted, expected an error"),
            Ok(entry) => entry,
        };
        let want = expect.registry.as_ref().unwrap_or_else(|| panic!("{case}: no [registry]"));
        assert_eq!(entry, registry_entry(want), "{case}: parsed entry");
        let at = expect.at_unix_ms.map_or(NOW, stamp_at);
        assert_observations(case, &registry_observations(&entry, NOW), &expect.obs, at);
        return;
    }

    let source_name = expect.source.as_deref().unwrap_or_else(|| match folder {
        "claude-hooks" => "claude_hook",
        "claude-statusline" => "claude_statusline",
        other => panic!("{case}: fixtures in {other}/ need `source`"),
    });
    let source = EventSource::from_name(source_name).expect("known source");
    let mut env = HookEnvelope {
        payload: payload.clone(),
        sent_unix_ms: SENT_UNIX_MS,
        ancestry: vec![41877, 41800, 1],
        env_session: Some("api".into()),
        args: Vec::new(),
    };
    if source == EventSource::CodexNotify {
        env.args = vec![String::from_utf8(std::mem::take(&mut env.payload)).expect("utf-8")];
    }
    // Every payload goes through the envelope, as it does on the wire.
    let (decoded_source, env) = decode_envelope(&encode_envelope(source, &env)).expect("envelope");
    assert_eq!(decoded_source, source);

    if let Some(line) = &expect.line {
        let json: serde_json::Value = serde_json::from_slice(&payload).expect("statusline JSON");
        assert_eq!(&statusline_line(&json), line, "{case}: statusline line");
    }
    let facts = match interpret(source, &env, NOW) {
        Err(err) => {
            assert!(expect.error, "{case}: refused ({err}) but no `error = true`");
            return;
        }
        Ok(facts) => facts,
    };
    assert!(!expect.error, "{case}: accepted, expected an error: {facts:#?}");
    assert_eq!(facts.event_name, expect.event_name, "{case}: event_name");
    assert_eq!(facts.agent_session_id, expect.session_id, "{case}: agent_session_id");
    assert_eq!(facts.subagent, expect.subagent, "{case}: subagent");
    assert_eq!(facts.recheck_process, expect.recheck_process, "{case}: recheck_process");
    assert_eq!(
        facts.permission_request.as_ref().map(|p| (p.tool.as_str(), p.detail.as_deref())),
        expect.permission_request.as_ref().map(|p| (p.tool.as_str(), p.detail.as_deref())),
        "{case}: permission_request"
    );
    let at = expect.at_unix_ms.map_or(stamp_at(SENT_UNIX_MS), stamp_at);
    assert_observations(case, &facts.observations, &expect.obs, at);
}

/// The stamp of something sent at `unix_ms` and received at [`NOW`].
fn stamp_at(unix_ms: i64) -> Stamp {
    Stamp { mono_ms: NOW.mono_ms - (NOW.unix_ms - unix_ms) as u64, unix_ms }
}

fn assert_observations(case: &str, got: &[Observation], want: &[ExpectObs], at: Stamp) {
    let want: Vec<Observation> = want
        .iter()
        .map(|w| Observation {
            source: got.first().map_or(tsm_agents::Source::ClaudeHook, |o| o.source),
            at,
            confidence: w.confidence.unwrap_or(Confidence::Exact),
            claim: claim(case, w),
        })
        .collect();
    let claims = |list: &[Observation]| list.iter().map(|o| o.claim.clone()).collect::<Vec<_>>();
    assert_eq!(claims(got), claims(&want), "{case}: claims");
    assert_eq!(got, want.as_slice(), "{case}: observations (source, stamp, confidence)");
    let sources: Vec<_> = got.iter().map(|o| o.source).collect();
    assert!(sources.windows(2).all(|w| w[0] == w[1]), "{case}: one source per event");
}

fn claim(case: &str, w: &ExpectObs) -> Claim {
    match (&w.state, &w.confirm, &w.hint, &w.meta) {
        (Some(state), None, None, None) => Claim::State(agent_state(case, state, w)),
        (None, Some(state), None, None) => Claim::Confirm(agent_state(case, state, w)),
        (None, None, Some(hint), None) => Claim::Hint(match hint.as_str() {
            "attention" => Hint::Attention,
            "dialog_gone" => Hint::DialogGone,
            "turn_started" => Hint::TurnStarted,
            other => panic!("{case}: unknown hint {other}"),
        }),
        (None, None, None, Some(m)) => Claim::Meta(MetaDelta {
            version: m.version.clone(),
            model: m.model.clone(),
            permission_mode: m.permission_mode.clone(),
            agent_session_id: m.agent_session_id.clone().map(|id| (id, m.verified)),
            transcript_path: m.transcript_path.clone(),
            cwd: m.cwd.clone(),
            cost_usd: m.cost_usd,
            tokens: m.tokens,
            context: m.context,
            last_prompt: m.last_prompt.clone(),
            last_message: m.last_message.clone(),
            subagents_delta: m.subagents_delta,
        }),
        _ => panic!("{case}: each [[obs]] has exactly one of state, confirm, hint, meta"),
    }
}

fn agent_state(case: &str, name: &str, w: &ExpectObs) -> AgentState {
    match name {
        "working" => AgentState::Working {
            activity: Activity {
                tool: w.tool.clone(),
                spinner: w.spinner.clone(),
                subagents: 0,
                background_shells: w.background_shells,
                background_agents: w.background_agents,
            },
        },
        "needs_approval" => AgentState::NeedsApproval {
            tool: w.tool.clone(),
            detail: w.detail.clone(),
            options: Vec::new(),
        },
        "needs_input" => AgentState::NeedsInput {
            kind: match w.input.as_deref() {
                Some("question") => InputKind::Question,
                Some("elicitation") => InputKind::Elicitation,
                Some("dialog") => InputKind::Dialog,
                other => panic!("{case}: needs_input with input = {other:?}"),
            },
        },
        "idle" => AgentState::Idle,
        "done" => AgentState::Done { unseen: w.unseen.unwrap_or(true) },
        "errored" => AgentState::Errored {
            kind: match w.error.as_deref() {
                Some("auth") => ErrorKind::Auth,
                Some("rate_limit") => ErrorKind::RateLimit,
                Some("usage_limit") => ErrorKind::UsageLimit,
                Some("overloaded") => ErrorKind::Overloaded,
                Some("connection") => ErrorKind::Connection,
                Some("billing") => ErrorKind::Billing,
                Some("api") => ErrorKind::Api,
                Some("unknown") => ErrorKind::Unknown,
                other => panic!("{case}: errored with error = {other:?}"),
            },
            text: w.text.clone().unwrap_or_default(),
        },
        other => panic!("{case}: unknown state {other}"),
    }
}

fn registry_entry(want: &ExpectRegistry) -> RegistryEntry {
    RegistryEntry {
        pid: want.pid,
        session_id: want.session_id.clone(),
        cwd: want.cwd.clone(),
        status: want.status.clone(),
        waiting_for: want.waiting_for.clone(),
        version: want.version.clone(),
        proc_start: want.proc_start.clone(),
        updated_at: want.updated_at,
        status_updated_at: want.status_updated_at,
    }
}

#[test]
fn every_fixture_on_disk_is_listed() {
    let mut on_disk = Vec::new();
    for folder in std::fs::read_dir(fixtures_dir()).unwrap() {
        let folder = folder.unwrap().path();
        for file in std::fs::read_dir(&folder).unwrap() {
            let name = file.unwrap().file_name().into_string().unwrap();
            let case = name.strip_suffix(".expect.toml").or_else(|| name.strip_suffix(".json"));
            let case = case.unwrap_or_else(|| panic!("stray file {}/{name}", folder.display()));
            let folder = folder.file_name().unwrap().to_str().unwrap();
            on_disk.push(format!("{folder}/{case}"));
        }
    }
    on_disk.sort();
    on_disk.dedup();
    let mut listed: Vec<String> = LISTED.iter().map(|c| c.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "fixtures on disk vs the fixtures! list");
    for case in LISTED {
        assert!(fixtures_dir().join(format!("{case}.json")).exists(), "{case}.json");
        assert!(fixtures_dir().join(format!("{case}.expect.toml")).exists(), "{case}.expect.toml");
    }
}

/// An envelope for `source` with this payload, sent at [`SENT_UNIX_MS`].
fn envelope(payload: Vec<u8>, args: Vec<String>) -> HookEnvelope {
    HookEnvelope { payload, sent_unix_ms: SENT_UNIX_MS, ancestry: vec![1], env_session: None, args }
}

#[test]
fn payloads_over_one_mib_are_refused_by_every_source() {
    // A valid event padded to just over the limit.
    let mut big = br#"{"hook_event_name":"Stop","pad":""#.to_vec();
    big.resize(MAX_EVENT_PAYLOAD_LEN - 1, b'x');
    big.extend_from_slice(br#""}"#);
    assert!(big.len() > MAX_EVENT_PAYLOAD_LEN);
    for source in EventSource::ALL {
        let env = if source == EventSource::CodexNotify {
            envelope(Vec::new(), vec![String::from_utf8(big.clone()).unwrap()])
        } else {
            envelope(big.clone(), Vec::new())
        };
        let err = interpret(source, &env, NOW).expect_err(source.name());
        assert!(err.to_string().contains("over the limit"), "{}: {err}", source.name());
    }
    assert!(parse_registry(&big).is_err());
    // The same event within the limit is fine.
    let small = br#"{"hook_event_name":"Stop","pad":"x"}"#.to_vec();
    assert!(interpret(EventSource::ClaudeHook, &envelope(small, Vec::new()), NOW).is_ok());
}

#[test]
fn an_aider_notification_is_done_whatever_its_payload() {
    for payload in [Vec::new(), b"not json at all".to_vec()] {
        let facts =
            interpret(EventSource::AiderNotify, &envelope(payload, Vec::new()), NOW).unwrap();
        let states: Vec<_> = facts
            .observations
            .iter()
            .filter_map(|o| match &o.claim {
                Claim::State(state) => Some(state.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(states, [AgentState::Done { unseen: true }]);
        assert!(facts.observations.iter().all(|o| o.at == stamp_at(SENT_UNIX_MS)));
    }
}

#[test]
fn codex_notify_reads_the_last_argument_after_the_old_program() {
    let json =
        r#"{"type":"agent-turn-complete","thread-id":"019e353a-0000-7000-8000-000000000000"}"#;
    let args = vec!["notify-send".to_string(), "Codex".to_string(), json.to_string()];
    let facts = interpret(EventSource::CodexNotify, &envelope(Vec::new(), args), NOW).unwrap();
    assert_eq!(facts.agent_session_id.as_deref(), Some("019e353a-0000-7000-8000-000000000000"));
    let none = interpret(EventSource::CodexNotify, &envelope(Vec::new(), Vec::new()), NOW);
    assert!(none.is_err());
}

#[test]
fn a_late_event_keeps_its_send_time() {
    let payload = br#"{"hook_event_name":"PostToolUse","tool_name":"Bash"}"#.to_vec();
    let mut env = envelope(payload, Vec::new());
    env.sent_unix_ms = NOW.unix_ms - 4_000;
    let facts = interpret(EventSource::ClaudeHook, &env, NOW).unwrap();
    for obs in &facts.observations {
        assert_eq!(obs.at, Stamp { mono_ms: NOW.mono_ms - 4_000, unix_ms: NOW.unix_ms - 4_000 });
    }
}

/// A transcript as Claude writes it: a prompt, one response over three lines (usage
/// repeated), a tool round trip, the end of the turn, then an interrupted turn.
const TRANSCRIPT: &str = r#"{"type":"user","isMeta":true,"message":{"role":"user","content":"<local-command-caveat>Caveat</local-command-caveat>"},"sessionId":"s1","version":"2.1.173","cwd":"/p","timestamp":"2026-01-01T10:00:00.000Z"}
{"type":"user","message":{"role":"user","content":"run the tests"},"sessionId":"s1","version":"2.1.173","cwd":"/p","timestamp":"2026-01-01T10:00:01.000Z"}
{"type":"assistant","requestId":"req_1","message":{"id":"msg_1","model":"claude-opus-4-6","content":[{"type":"text","text":"Running them."}],"stop_reason":null,"usage":{"input_tokens":10,"output_tokens":5,"cache_creation_input_tokens":100,"cache_read_input_tokens":1000}},"sessionId":"s1","version":"2.1.173","cwd":"/p","timestamp":"2026-01-01T10:00:02.000Z"}
{"type":"assistant","requestId":"req_1","message":{"id":"msg_1","model":"claude-opus-4-6","content":[{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"npm test"}}],"stop_reason":"tool_use","usage":{"input_tokens":10,"output_tokens":5,"cache_creation_input_tokens":100,"cache_read_input_tokens":1000}},"sessionId":"s1","version":"2.1.173","cwd":"/p","timestamp":"2026-01-01T10:00:02.500Z"}
{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"12 passing"}]},"sessionId":"s1","version":"2.1.173","cwd":"/p","timestamp":"2026-01-01T10:00:05.000Z"}
{"type":"assistant","requestId":"req_2","message":{"id":"msg_2","model":"claude-opus-4-6","content":[{"type":"text","text":"All tests pass."}],"stop_reason":"end_turn","usage":{"input_tokens":20,"output_tokens":7,"cache_creation_input_tokens":0,"cache_read_input_tokens":1100}},"sessionId":"s1","version":"2.1.173","cwd":"/p","timestamp":"2026-01-01T10:00:04.000Z"}
{"type":"user","message":{"role":"user","content":"<command-name>/cost</command-name>"},"sessionId":"s1","version":"2.1.173","cwd":"/p","timestamp":"2026-01-01T10:00:06.000Z"}
{"type":"user","message":{"role":"user","content":"now the slow ones"},"sessionId":"s1","version":"2.1.173","cwd":"/p","timestamp":"2026-01-01T10:00:07.000Z"}
{"type":"user","message":{"role":"user","content":[{"type":"text","text":"[Request interrupted by user]"}]},"sessionId":"s1","version":"2.1.173","cwd":"/p","timestamp":"2026-01-01T10:00:08.000Z"}
{"type":"assistant","requestId":"req_3","message":{"id":"msg_3","content":[{"type":"text","text":"cut o"#;

fn states_of(obs: &[Observation]) -> Vec<AgentState> {
    obs.iter()
        .filter_map(|o| match &o.claim {
            Claim::State(state) => Some(state.clone()),
            _ => None,
        })
        .collect()
}

fn metas_of(obs: &[Observation]) -> Vec<&MetaDelta> {
    obs.iter()
        .filter_map(|o| match &o.claim {
            Claim::Meta(meta) => Some(meta),
            _ => None,
        })
        .collect()
}

fn working(tool: Option<&str>) -> AgentState {
    AgentState::Working {
        activity: Activity { tool: tool.map(str::to_owned), ..Activity::default() },
    }
}

#[test]
fn a_transcript_gives_turns_and_counts_each_response_once() {
    let now = Stamp { mono_ms: 500_000, unix_ms: 1_767_261_600_000 };
    for chunk_len in [1, 7, 64, TRANSCRIPT.len()] {
        let mut tail = TranscriptTail::new();
        let mut obs = Vec::new();
        for chunk in TRANSCRIPT.as_bytes().chunks(chunk_len) {
            obs.extend(tail.on_bytes(chunk, now));
        }
        assert_eq!(
            states_of(&obs),
            [
                working(None),
                working(Some("Bash")),
                working(None),
                AgentState::Done { unseen: true },
                working(None),
                AgentState::Idle,
            ],
            "chunks of {chunk_len}"
        );
        assert_eq!(
            tail.tokens(),
            Tokens { input: 30, output: 12, cache_read: 2100, cache_write: 100 },
            "usage counted once per (message.id, requestId)"
        );
        let metas = metas_of(&obs);
        let prompts: Vec<_> = metas.iter().filter_map(|m| m.last_prompt.as_deref()).collect();
        assert_eq!(prompts, ["run the tests", "now the slow ones"], "meta user lines skipped");
        let ids: Vec<_> = metas.iter().filter_map(|m| m.agent_session_id.clone()).collect();
        assert_eq!(ids, [("s1".to_string(), false)], "the id once, unverified");
        assert_eq!(
            metas.iter().filter_map(|m| m.model.as_deref()).collect::<Vec<_>>(),
            ["claude-opus-4-6"]
        );
        assert_eq!(
            metas.iter().filter_map(|m| m.last_message.as_deref()).collect::<Vec<_>>(),
            ["All tests pass."]
        );
        // Out-of-order timestamps never make stamps go backwards.
        assert!(obs.windows(2).all(|w| w[0].at <= w[1].at));
    }
}

#[test]
fn transcript_side_lines_change_no_state() {
    let now = Stamp { mono_ms: 500_000, unix_ms: 1_767_261_600_000 };
    let mut tail = TranscriptTail::new();
    let prompt = r#"{"type":"user","message":{"role":"user","content":"go"},"sessionId":"s1"}"#;
    assert_eq!(states_of(&tail.on_line(prompt.as_bytes(), now)), [working(None)]);
    let quiet = [
        // A subagent's line in the old single-file layout.
        r#"{"type":"assistant","isSidechain":true,"message":{"id":"m9","content":[{"type":"text","text":"sub"}],"stop_reason":"end_turn"},"sessionId":"s1"}"#,
        r#"{"type":"system","subtype":"compact_boundary","content":"Conversation compacted","sessionId":"s1"}"#,
        r#"{"type":"summary","summary":"Fixing tests","leafUuid":"u1"}"#,
        r#"{"type":"file-history-snapshot","messageId":"m1","snapshot":{}}"#,
        r#"{"type":"user","message":{"role":"user","content":"<persisted-output>big</persisted-output>"},"sessionId":"s1"}"#,
        r#"not json"#,
    ];
    for line in quiet {
        assert_eq!(states_of(&tail.on_line(line.as_bytes(), now)), [], "{line}");
    }
    let tool = r#"{"type":"assistant","requestId":"r1","message":{"id":"m1","content":[{"type":"tool_use","id":"t1","name":"Edit","input":{}}],"stop_reason":"tool_use"},"sessionId":"s1"}"#;
    assert_eq!(states_of(&tail.on_line(tool.as_bytes(), now)), [working(Some("Edit"))]);
    let interrupted = r#"{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"The user doesn't want to proceed","is_error":true},{"type":"text","text":"[Request interrupted by user for tool use]"}]},"sessionId":"s1"}"#;
    assert_eq!(states_of(&tail.on_line(interrupted.as_bytes(), now)), [AgentState::Idle]);
}

/// A Codex rollout: session meta, turn context, a turn with a tool call and token
/// counts, then an aborted turn.
const ROLLOUT: &str = r#"{"timestamp":"2026-01-01T10:00:00.000Z","type":"session_meta","payload":{"id":"019e353a-7b1c-7d2e-8f3a-4b5c6d7e8f90","timestamp":"2026-01-01T10:00:00.000Z","cwd":"/home/dev/web","originator":"codex_cli_rs","cli_version":"0.134.0","source":"cli","model_provider":"openai"}}
{"timestamp":"2026-01-01T10:00:01.000Z","type":"turn_context","payload":{"cwd":"/home/dev/web","approval_policy":"untrusted","sandbox_policy":{"mode":"workspace-write"},"model":"gpt-5.5","effort":"high"}}
{"timestamp":"2026-01-01T10:00:01.100Z","type":"event_msg","payload":{"type":"turn_started","turn_id":"1"}}
{"timestamp":"2026-01-01T10:00:01.200Z","type":"event_msg","payload":{"type":"user_message","message":"fix the lint errors","images":[]}}
{"timestamp":"2026-01-01T10:00:02.000Z","type":"response_item","payload":{"type":"function_call","name":"shell","arguments":"{\"command\":[\"npm\",\"run\",\"lint\"]}","call_id":"call_1"}}
{"timestamp":"2026-01-01T10:00:03.000Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":5000,"cached_input_tokens":3000,"output_tokens":400,"reasoning_output_tokens":100,"total_tokens":5400},"last_token_usage":{"input_tokens":5000,"cached_input_tokens":3000,"output_tokens":400,"reasoning_output_tokens":100,"total_tokens":5400},"model_context_window":272000},"rate_limits":{"primary":{"used_percent":12.0}}}}
{"timestamp":"2026-01-01T10:00:04.000Z","type":"event_msg","payload":{"type":"agent_message","message":"Lint is clean."}}
{"timestamp":"2026-01-01T10:00:04.100Z","type":"event_msg","payload":{"type":"turn_complete","turn_id":"1","last_agent_message":"Lint is clean."}}
{"timestamp":"2026-01-01T10:01:00.000Z","type":"event_msg","payload":{"type":"task_started"}}
{"timestamp":"2026-01-01T10:01:02.000Z","type":"event_msg","payload":{"type":"turn_aborted","reason":"interrupted"}}
"#;

#[test]
fn a_rollout_gives_ids_model_tokens_and_turns() {
    let now = Stamp { mono_ms: 500_000, unix_ms: 1_767_261_600_000 };
    let mut tail = RolloutTail::new();
    let obs: Vec<Observation> =
        ROLLOUT.as_bytes().chunks(5).flat_map(|chunk| tail.on_bytes(chunk, now)).collect();
    assert_eq!(
        states_of(&obs),
        [
            working(None),
            working(Some("shell")),
            AgentState::Done { unseen: true },
            working(None),
            AgentState::Idle,
        ]
    );
    let meta = metas_of(&obs);
    assert_eq!(
        meta[0].agent_session_id,
        Some(("019e353a-7b1c-7d2e-8f3a-4b5c6d7e8f90".to_string(), true))
    );
    assert_eq!(meta[0].version.as_deref(), Some("0.134.0"));
    assert_eq!(meta[1].model.as_deref(), Some("gpt-5.5"));
    let tokens = meta.iter().find_map(|m| m.tokens).unwrap();
    assert_eq!(tokens, Tokens { input: 5000, output: 400, cache_read: 3000, cache_write: 0 });
    let context = meta.iter().find_map(|m| m.context).unwrap();
    assert_eq!(context, Context { used: 5400, window: 272_000, pct: 1 });
}

/// Keys and values the interpreters read, so random objects reach deep paths.
fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let names = prop::sample::select(vec![
        "SessionStart",
        "UserPromptSubmit",
        "PreToolUse",
        "PermissionRequest",
        "PostToolUse",
        "PostToolUseFailure",
        "Notification",
        "Stop",
        "StopFailure",
        "SubagentStart",
        "SubagentStop",
        "PreCompact",
        "SessionEnd",
        "Elicitation",
        "BeforeAgent",
        "AfterAgent",
        "BeforeTool",
        "AfterTool",
        "agent-turn-complete",
        "permission_prompt",
        "ToolPermission",
        "AskUserQuestion",
        "busy",
        "idle",
        "waiting",
        "approve Bash",
        "rate_limit",
        "shell",
    ]);
    let keys = prop::sample::select(vec![
        "hook_event_name",
        "session_id",
        "tool_name",
        "tool_input",
        "notification_type",
        "background_tasks",
        "error",
        "error_details",
        "agent_id",
        "reason",
        "source",
        "type",
        "thread-id",
        "input-messages",
        "timestamp",
        "details",
        "status",
        "waitingFor",
        "pid",
        "model",
        "cost",
        "context_window",
        "current_usage",
        "used_percentage",
        "workspace",
        "message",
        "content",
        "usage",
        "payload",
        "info",
        "is_interrupt",
        "procStart",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        names.prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..8).prop_map(|pairs| Value::Object(
                pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            )),
        ]
    })
}

/// Feeds `bytes` to every entry point; none may panic.
fn feed_everything(bytes: &[u8]) {
    let _ = decode_envelope(bytes);
    let _ = parse_registry(bytes).map(|entry| registry_observations(&entry, NOW));
    let text = String::from_utf8_lossy(bytes).into_owned();
    for source in EventSource::ALL {
        let _ = interpret(source, &envelope(bytes.to_vec(), Vec::new()), NOW);
        let _ = interpret(source, &envelope(Vec::new(), vec![text.clone()]), NOW);
    }
    let _ = TranscriptTail::new().on_bytes(bytes, NOW);
    let _ = RolloutTail::new().on_bytes(bytes, NOW);
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) {
        let _ = statusline_line(&value);
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        feed_everything(&bytes);
    }

    #[test]
    fn arbitrary_json_never_panics(value in arb_json()) {
        let bytes = serde_json::to_vec(&value).unwrap();
        feed_everything(&bytes);
        let mut line = bytes.clone();
        line.push(b'\n');
        feed_everything(&line);
        let env = br#"{"source":"claude_hook","sent_unix_ms":0,"payload_b64":""}"#;
        feed_everything(env);
    }
}
