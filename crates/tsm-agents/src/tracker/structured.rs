//! Structured sources: hook, statusline and notify events attributed by ancestry (§6.3),
//! Claude's registry file, and the transcript or rollout tailed as it grows. Lagging
//! sources never undo a newer hook.

use super::*;

/// A transcript (Claude) or rollout (Codex) read as it grows.
#[derive(Debug)]
pub(super) struct FileTail {
    path: PathBuf,
    /// How far it has been read.
    offset: u64,
    reader: FileReader,
}

/// How a tailed file reads.
#[derive(Debug)]
enum FileReader {
    Transcript(Box<TranscriptTail>),
    Rollout(RolloutTail),
}

impl FileTail {
    pub(super) fn new(kind: &AgentKind, path: PathBuf) -> FileTail {
        let reader = match kind {
            AgentKind::Codex => FileReader::Rollout(RolloutTail::new()),
            _ => FileReader::Transcript(Box::new(TranscriptTail::new())),
        };
        FileTail { path, offset: 0, reader }
    }

    fn want(&self) -> Want {
        Want::Tail { path: self.path.clone(), from: self.offset }
    }
}

impl Tracker {
    pub(super) fn on_hook(
        &mut self,
        now: Stamp,
        source: EventSource,
        envelope: &HookEnvelope,
        out: &mut Vec<Output>,
    ) {
        let facts = match events::interpret(source, envelope, now) {
            Ok(facts) => facts,
            Err(err) => {
                self.rejected += 1;
                out.push(Output::Log(serde_json::json!({"at_ms": now.unix_ms, "rejected": source.name(), "error": err.to_string()})));
                return;
            }
        };
        let kind = match source {
            EventSource::ClaudeHook | EventSource::ClaudeStatusline => AgentKind::Claude,
            EventSource::CodexHook | EventSource::CodexNotify => AgentKind::Codex,
            EventSource::GeminiHook => AgentKind::Gemini,
            EventSource::AiderNotify => AgentKind::Aider,
        };
        // Attribution (§6.3): whose event is it?
        let mut nested = self.nested_agent(&envelope.ancestry);
        let mut late = false;
        match &self.record {
            // A live agent we saw of another kind: this one runs under it (`codex exec` in
            // Claude's Bash tool) and only counts as a subagent.
            Some(r) if r.gone.is_none() && r.process.is_some() && r.kind != kind => nested = true,
            // A late event of the agent that exited (async hooks, SessionEnd): metadata only.
            Some(r)
                if r.gone.is_some()
                    && r.pid().is_some_and(|pid| envelope.ancestry.contains(&pid)) =>
            {
                late = true;
            }
            Some(r) if r.gone.is_none() && r.kind == kind => {}
            _ => {
                // An event before the process was seen: a record attributed by the
                // environment only, until a process check finds the agent.
                self.record = Some(Record::new(kind.clone(), None, now));
                self.screen = ScreenMemory::default();
                out.push(Output::KindChanged(Some(kind)));
            }
        }
        let subagent = facts.subagent || nested;
        let Some(record) = self.record.as_mut() else { return };
        // An id is verified only when the event comes from the agent process itself (§6.1):
        // its pid in the hook's ancestry. Without a known pid, or outside it, it is not,
        // and the event counts with medium confidence.
        let from_agent = record.pid().is_some_and(|pid| envelope.ancestry.contains(&pid));
        let env_only = !from_agent && record.pid().is_some();
        let decided = record.last_decided.get(&facts.agent_session_id).copied();
        let mut accepted = Vec::new();
        for mut obs in facts.observations {
            if env_only {
                obs.confidence = obs.confidence.min(Confidence::Medium);
            }
            match &obs.claim {
                // A subagent's (or nested agent's) events only count subagents.
                Claim::Meta(delta) if subagent => {
                    let count = i64::from(record.subagents) + i64::from(delta.subagents_delta);
                    record.subagents = count.clamp(0, i64::from(u32::MAX)) as u32;
                    continue;
                }
                _ if subagent => continue,
                Claim::State(_) | Claim::Hint(_) | Claim::Gone { .. } if late => continue,
                // Hints of an event older than the one that decided the state (an async
                // PostToolUse of an earlier tool) answer no newer dialog and start no turn.
                Claim::Hint(_) if decided.is_some_and(|d| obs.at < d) => continue,
                Claim::Meta(delta)
                    if !from_agent && delta.agent_session_id.as_ref().is_some_and(|(_, v)| *v) =>
                {
                    let mut delta = delta.clone();
                    delta.agent_session_id = delta.agent_session_id.map(|(id, _)| (id, false));
                    accepted.push(Observation { claim: Claim::Meta(delta), ..obs });
                    continue;
                }
                Claim::State(_) => {
                    if decided.is_some_and(|d| obs.at < d) {
                        // Older than the event that decided the current state: metadata only.
                        continue;
                    }
                    record.last_decided.insert(facts.agent_session_id.clone(), obs.at);
                }
                _ => {}
            }
            accepted.push(obs);
        }
        for obs in accepted {
            self.observe(obs);
        }
        self.want_files(out);
        if facts.recheck_process {
            out.push(Output::Want(Want::ProcessCheck));
        }
        if let Some(request) = facts.permission_request {
            self.yolo.hook_seen = true;
            let allowed = request.auto_answerable();
            let native = self
                .record
                .as_ref()
                .and_then(|r| r.process.as_ref())
                .is_some_and(AgentProcess::yolo_native);
            if self.yolo.enabled_at.is_some() && allowed && !native {
                self.yolo.answers += 1;
                let print = r#"{"hookSpecificOutput":{"hookEventName":"PermissionRequest","decision":{"behavior":"allow"}}}"#;
                out.push(Output::Print(print.to_string()));
                out.push(Output::Log(serde_json::json!({
                    "at_ms": now.unix_ms, "yolo_answer": "hook", "tool": request.tool, "detail": request.detail,
                })));
            }
        }
        out.push(Output::MetaChanged);
    }

    pub(super) fn on_registry(
        &mut self,
        now: Stamp,
        pid: u32,
        contents: Option<Vec<u8>>,
        out: &mut Vec<Output>,
    ) {
        let Some(record) = self.record.as_mut() else { return };
        if record.pid() != Some(pid) || record.kind != AgentKind::Claude {
            return;
        }
        let Some(contents) = contents else { return };
        let mut digest = Fnv::new();
        digest.bytes(&contents);
        let digest = digest.0;
        if record.registry_digest == Some(digest) {
            return; // read again, unchanged
        }
        let Ok(entry) = events::parse_registry(&contents) else {
            // Half-written or foreign: wait for the next version of the file.
            return;
        };
        // A file of another process that had this pid before (procStart, when it is the
        // start time in clock ticks, as on Linux) is not ours.
        let started = record.process.as_ref().map(|p| p.start_ticks);
        let reused = entry
            .proc_start
            .as_deref()
            .and_then(|s| s.parse::<u64>().ok())
            .zip(started)
            .is_some_and(|(a, b)| a != b);
        if entry.pid != pid || reused {
            return;
        }
        record.registry_digest = Some(digest);
        let observations = events::registry_observations(&entry, now);
        self.observe_lagging(observations, out);
    }

    /// New bytes of the tailed file. Its states only count when they are not older than
    /// the structured opinion in force: a lagging transcript never undoes a newer hook.
    pub(super) fn on_file_bytes(
        &mut self,
        now: Stamp,
        path: &Path,
        from: u64,
        bytes: &[u8],
        out: &mut Vec<Output>,
    ) {
        let Some(record) = self.record.as_mut() else { return };
        let Some(tail) = record.tail.as_mut().filter(|t| t.path == path) else { return };
        if from != tail.offset {
            // The first read starts near the end; a file that shrank starts over.
            *tail = FileTail::new(&record.kind, path.to_path_buf());
        }
        tail.offset = from + bytes.len() as u64;
        let observations = match &mut tail.reader {
            FileReader::Transcript(reader) => reader.on_bytes(bytes, now),
            FileReader::Rollout(reader) => reader.on_bytes(bytes, now),
        };
        self.observe_lagging(observations, out);
    }

    /// Observations of a lagging source (registry file, transcript, rollout): their states
    /// count only when not older than the structured opinion in force, so a file written
    /// before the last hook never undoes it; their metadata always counts.
    fn observe_lagging(&mut self, observations: Vec<Observation>, out: &mut Vec<Output>) {
        let Some(record) = &self.record else { return };
        let newest_opinion =
            [record.structured.as_ref().map(|o| o.at), record.dialog.as_ref().map(|d| d.at)]
                .into_iter()
                .flatten()
                .max();
        let accepted: Vec<Observation> = observations
            .into_iter()
            .filter(|obs| {
                !matches!(obs.claim, Claim::State(_))
                    || newest_opinion.is_none_or(|at| obs.at >= at)
            })
            .collect();
        if accepted.is_empty() {
            return;
        }
        for obs in accepted {
            self.observe(obs);
        }
        out.push(Output::MetaChanged);
    }

    /// The agent's open files: its rollout, if it holds one.
    pub(super) fn on_open_files(&mut self, pid: u32, paths: Vec<PathBuf>, out: &mut Vec<Output>) {
        let Some(record) =
            self.record.as_mut().filter(|r| r.pid() == Some(pid) && r.tail.is_none())
        else {
            return;
        };
        let rollout = paths.into_iter().find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("rollout-") && n.ends_with(".jsonl"))
        });
        if let Some(path) = rollout {
            let tail = FileTail::new(&record.kind, path);
            out.push(Output::Want(tail.want()));
            record.tail = Some(tail);
        }
    }

    /// Whether the nearest agent in an event's ancestry is another agent than the primary
    /// (a nested `claude -p` run by a tool): its events are the primary's subagents.
    fn nested_agent(&self, ancestry: &[u32]) -> bool {
        let Some(primary) = self.record.as_ref().and_then(Record::pid) else { return false };
        for pid in ancestry {
            if *pid == primary {
                return false;
            }
            let is_agent = self.procs.iter().find(|p| p.pid == *pid).is_some_and(|p| {
                self.rules.agents().any(|a| process::is_match(a.process(), &p.argv))
            });
            if is_agent {
                return true;
            }
        }
        false
    }

    /// Asks for the agent's transcript or rollout: new bytes of a known one, else the way
    /// to find it (open files for Codex; the path events or the registry gave for Claude).
    pub(super) fn want_files(&mut self, out: &mut Vec<Output>) {
        let projects = self.env.claude_projects_dir();
        let Some(record) = self.record.as_mut().filter(|r| r.gone.is_none()) else { return };
        // A new agent session (`/clear`, `/resume`) writes another transcript.
        let moved = record.kind == AgentKind::Claude
            && record
                .meta
                .transcript_path()
                .is_some_and(|p| record.tail.as_ref().is_some_and(|t| &t.path != p));
        if moved {
            record.tail = None;
        }
        if record.tail.is_none() {
            let path = match record.kind {
                AgentKind::Claude => record.meta.transcript_path().cloned().or_else(|| {
                    let (id, verified) = record.meta.agent_session_id()?;
                    let cwd = record.meta.cwd()?;
                    verified
                        .then(|| claude_transcript_path(projects.as_deref()?, cwd, id))
                        .flatten()
                }),
                _ => None,
            };
            match (path, &record.kind, record.pid()) {
                (Some(path), _, _) => record.tail = Some(FileTail::new(&record.kind, path)),
                (None, AgentKind::Codex, Some(pid)) => {
                    out.push(Output::Want(Want::OpenFiles { pid }))
                }
                _ => {}
            }
        }
        if let Some(tail) = &record.tail {
            out.push(Output::Want(tail.want()));
        }
    }
}

/// Claude's transcript of session `id` started in `cwd`: `<projects>/<encoded cwd>/<id>.jsonl`,
/// where every character but an ASCII letter or digit becomes `-`. Names over 200
/// characters get a hash suffix Claude does not document: unknown, not guessed.
fn claude_transcript_path(projects: &Path, cwd: &Path, id: &str) -> Option<PathBuf> {
    let encoded: String =
        cwd.to_str()?.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    (encoded.len() <= 200).then(|| projects.join(encoded).join(format!("{id}.jsonl")))
}
