//! Shared output helpers: aligned tables, durations, paths with `~`.

use std::io::{self, Write};

/// Writes rows as columns separated by two spaces, each as wide as its widest cell (the
/// Go tsm's tabwriter layout). The last column is not padded.
pub(crate) fn write_table(out: &mut impl Write, rows: &[Vec<String>]) -> io::Result<()> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|col| {
            rows.iter()
                .filter_map(|row| row.get(col))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let mut line = String::new();
        for (col, cell) in row.iter().enumerate() {
            if col + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}  ", width = widths[col]));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// A duration in the Go tsm's uptime style: `45s`, `12m`, `3h4m`, `2d5h`; `-` for none.
pub(crate) fn format_uptime(secs: Option<u64>) -> String {
    let Some(secs) = secs else { return "-".to_owned() };
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86400 => format!("{}h{}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d{}h", secs / 86400, secs % 86400 / 3600),
    }
}

/// `path` with a leading `$HOME` written as `~`.
pub(crate) fn tilde(path: &str) -> String {
    match std::env::var("HOME") {
        Ok(home) if !home.is_empty() && home != "/" => match path.strip_prefix(&home) {
            Some("") => "~".to_owned(),
            Some(rest) if rest.starts_with('/') => format!("~{rest}"),
            _ => path.to_owned(),
        },
        _ => path.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_matches_go_style() {
        assert_eq!(format_uptime(None), "-");
        assert_eq!(format_uptime(Some(0)), "0s");
        assert_eq!(format_uptime(Some(59)), "59s");
        assert_eq!(format_uptime(Some(60)), "1m");
        assert_eq!(format_uptime(Some(3599)), "59m");
        assert_eq!(format_uptime(Some(3600 + 4 * 60)), "1h4m");
        assert_eq!(format_uptime(Some(86400 * 3 + 3600 * 5)), "3d5h");
    }

    #[test]
    fn table_columns_align() {
        let mut out = Vec::new();
        let rows = vec![vec!["NAME".into(), "PID".into()], vec!["long-name".into(), "1".into()]];
        write_table(&mut out, &rows).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "NAME       PID\nlong-name  1\n");
    }
}
