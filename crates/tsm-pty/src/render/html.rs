//! HTML: a `<pre>` with one inline-styled `<span>` per run of equal attributes.
//!
//! Colours of the 16 named entries and the 256-colour cube are xterm's defaults; the default
//! foreground and background are left to the page (no style), except under inverse video,
//! where they become black on light grey.

use std::fmt::Write;

use alacritty_terminal::term::cell::{Cell, Flags, Hyperlink};
use alacritty_terminal::vte::ansi::{Color, NamedColor};

use super::{LogicalLine, is_spacer};
use crate::snapshot::STYLE_FLAGS;

/// xterm's 16 default colours.
const NAMED: [&str; 16] = [
    "#000000", "#cd0000", "#00cd00", "#cdcd00", "#0000ee", "#cd00cd", "#00cdcd", "#e5e5e5",
    "#7f7f7f", "#ff0000", "#00ff00", "#ffff00", "#5c5cff", "#ff00ff", "#00ffff", "#ffffff",
];

/// Inverse video of the default colours: the foreground used as a background.
const DEFAULT_FG_INVERSE: &str = "#e5e5e5";
/// Inverse video of the default colours: the background used as a foreground.
const DEFAULT_BG_INVERSE: &str = "#000000";

/// Appends `<pre class="tsm-history">` with the lines.
pub(super) fn render(lines: &[LogicalLine<'_>], out: &mut Vec<u8>) {
    let mut html = String::from("<pre class=\"tsm-history\">");
    for line in lines {
        let mut style = String::new();
        let mut link: Option<Hyperlink> = None;
        let mut open_span = false;
        for cell in line.cells() {
            if is_spacer(cell) {
                continue;
            }
            let cell_link = cell.hyperlink();
            let cell_style = css(cell);
            if cell_link != link || cell_style != style {
                if open_span {
                    html.push_str("</span>");
                    open_span = false;
                }
                if cell_link != link {
                    if link.is_some() {
                        html.push_str("</a>");
                    }
                    if let Some(l) = &cell_link {
                        html.push_str("<a href=\"");
                        escape(&mut html, l.uri());
                        html.push_str("\">");
                    }
                    link = cell_link;
                }
                if !cell_style.is_empty() {
                    let _ = write!(html, "<span style=\"{cell_style}\">");
                    open_span = true;
                }
                style = cell_style;
            }
            let mut text = String::new();
            text.push(if cell.c == '\t' { ' ' } else { cell.c });
            if let Some(zerowidth) = cell.zerowidth() {
                text.extend(zerowidth);
            }
            escape(&mut html, &text);
        }
        if open_span {
            html.push_str("</span>");
        }
        if link.is_some() {
            html.push_str("</a>");
        }
        html.push('\n');
    }
    html.push_str("</pre>\n");
    out.extend_from_slice(html.as_bytes());
}

/// The inline CSS of a cell's attributes; empty for plain text.
fn css(cell: &Cell) -> String {
    let flags = cell.flags & STYLE_FLAGS;
    let (mut fg, mut bg) = (color(cell.fg), color(cell.bg));
    if flags.contains(Flags::INVERSE) {
        let new_fg = bg.clone().unwrap_or_else(|| DEFAULT_BG_INVERSE.to_owned());
        let new_bg = fg.clone().unwrap_or_else(|| DEFAULT_FG_INVERSE.to_owned());
        fg = Some(new_fg);
        bg = Some(new_bg);
    }
    let mut css = String::new();
    if let Some(fg) = fg {
        let _ = write!(css, "color:{fg};");
    }
    if let Some(bg) = bg {
        let _ = write!(css, "background-color:{bg};");
    }
    if flags.contains(Flags::BOLD) {
        css.push_str("font-weight:bold;");
    }
    if flags.contains(Flags::DIM) {
        css.push_str("opacity:0.6;");
    }
    if flags.contains(Flags::ITALIC) {
        css.push_str("font-style:italic;");
    }
    let mut decorations = Vec::new();
    if flags.intersects(Flags::ALL_UNDERLINES) {
        decorations.push("underline");
    }
    if flags.contains(Flags::STRIKEOUT) {
        decorations.push("line-through");
    }
    if !decorations.is_empty() {
        let _ = write!(css, "text-decoration:{};", decorations.join(" "));
        let style = if flags.contains(Flags::DOUBLE_UNDERLINE) {
            Some("double")
        } else if flags.contains(Flags::UNDERCURL) {
            Some("wavy")
        } else if flags.contains(Flags::DOTTED_UNDERLINE) {
            Some("dotted")
        } else if flags.contains(Flags::DASHED_UNDERLINE) {
            Some("dashed")
        } else {
            None
        };
        if let Some(style) = style {
            let _ = write!(css, "text-decoration-style:{style};");
        }
        if let Some(ul) = cell.underline_color().and_then(color) {
            let _ = write!(css, "text-decoration-color:{ul};");
        }
    }
    if flags.contains(Flags::HIDDEN) {
        css.push_str("visibility:hidden;");
    }
    css
}

/// A colour as CSS; `None` for the default colours.
fn color(color: Color) -> Option<String> {
    match color {
        Color::Named(named) if (named as usize) < 16 => Some(NAMED[named as usize].to_owned()),
        Color::Named(NamedColor::Foreground | NamedColor::Background) | Color::Named(_) => None,
        Color::Indexed(i) => Some(indexed(i)),
        Color::Spec(rgb) => Some(format!("#{:02x}{:02x}{:02x}", rgb.r, rgb.g, rgb.b)),
    }
}

/// xterm's 256-colour palette.
fn indexed(i: u8) -> String {
    match i {
        0..=15 => NAMED[i as usize].to_owned(),
        16..=231 => {
            let i = i - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + 40 * v };
            format!("#{:02x}{:02x}{:02x}", level(i / 36), level(i / 6 % 6), level(i % 6))
        }
        232..=255 => {
            let v = 8 + 10 * (i - 232);
            format!("#{v:02x}{v:02x}{v:02x}")
        }
    }
}

/// Appends text with `&`, `<`, `>` and `"` escaped.
fn escape(html: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            c => html.push(c),
        }
    }
}
