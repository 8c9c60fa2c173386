//! The Markdown the runner prints: a header with the date, the machine and the command,
//! then one section per bench with its table.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::e2e::system::Tools;

/// A Markdown table: a header row and data rows of the same width.
#[derive(Debug)]
pub(crate) struct Table {
    /// The column names.
    header: Vec<String>,
    /// The cells, row by row.
    rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these columns.
    pub(crate) fn new(header: &[&str]) -> Table {
        Table { header: header.iter().map(|h| h.to_string()).collect(), rows: Vec::new() }
    }

    /// Adds a row (short rows are padded with empty cells).
    pub(crate) fn row(&mut self, mut cells: Vec<String>) {
        cells.resize(self.header.len(), String::new());
        self.rows.push(cells);
    }

    /// The table as Markdown.
    fn render(&self) -> String {
        let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
        let mut out = line(&self.header);
        out += &line(&vec!["---".to_owned(); self.header.len()]);
        for row in &self.rows {
            out += &line(row);
        }
        out
    }
}

/// One bench's part of the report.
#[derive(Debug)]
pub(crate) struct Section {
    /// The bench's id, `B1`, for messages.
    pub(crate) id: &'static str,
    /// The heading, `B1: output throughput ...`.
    pub(crate) title: String,
    /// Paragraphs before the table: what was measured and how.
    pub(crate) intro: Vec<String>,
    /// The figures.
    pub(crate) table: Table,
    /// Paragraphs after the table: failures, observations.
    pub(crate) notes: Vec<String>,
    /// Whether every sample succeeded.
    pub(crate) complete: bool,
}

impl Section {
    /// A section with no notes yet.
    pub(crate) fn new(id: &'static str, title: &str, table: Table) -> Section {
        Section {
            id,
            title: format!("{id}: {title}"),
            intro: Vec::new(),
            table,
            notes: Vec::new(),
            complete: true,
        }
    }

    /// Records a failed sample: a note, and the section is incomplete.
    pub(crate) fn failure(&mut self, what: String) {
        eprintln!("e2e: {what}");
        self.notes.push(format!("Failed: {what}"));
        self.complete = false;
    }

    /// The section as Markdown.
    pub(crate) fn render(&self) -> String {
        let mut out = format!("### {}\n\n", self.title);
        for paragraph in &self.intro {
            let _ = writeln!(out, "{paragraph}\n");
        }
        out += &self.table.render();
        for note in &self.notes {
            let _ = write!(out, "\n{}\n", note.replace('\n', " "));
        }
        out + "\n"
    }
}

/// The report's header: date, machine line, tools, load and the command.
pub(crate) fn header(tools: &Tools, args: &[String]) -> String {
    let cpu = cpu_model().unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = load_now();
    let dtach = if tools.dtach.is_some() { "installed" } else { "not installed" };
    let tmux = tools.tmux_version.as_deref().unwrap_or("not installed");
    let mut command = String::from("cargo run --release -p tsm-benches --bin e2e --");
    for arg in args {
        command.push(' ');
        command.push_str(arg);
    }
    format!(
        "## End-to-end (B1-B3, B5-B7)\n\n\
         {date}, `nproc` {cores}, {cpu}; load average {load} at the start.\n\
         {tsm} ({path}); dtach: {dtach}; tmux: {tmux}.\n\n    {command}\n\n",
        date = today(),
        tsm = tools.tsm_version,
        path = tools.tsm.display(),
    )
}

/// The 1-, 5- and 15-minute load averages now.
pub(crate) fn load_now() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// The first `model name` of /proc/cpuinfo.
fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("model name"))?;
    Some(line.split_once(':')?.1.trim().to_owned())
}

/// Today's date (UTC) as `YYYY-MM-DD`.
fn today() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_from_days_knows_epoch_leap_days_and_centuries() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_818), (2026, 12, 31));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn table_renders_markdown_rows_padded_to_the_header() {
        let mut table = Table::new(&["a", "b"]);
        table.row(vec!["1".into()]);
        assert_eq!(table.render(), "| a | b |\n| --- | --- |\n| 1 |  |\n");
    }
}
