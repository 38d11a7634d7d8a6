//! Readable renderings of a matrix, for people rather than programs: a tracks-by-levels table
//! like the seed document's, in Markdown or in one self-contained, printable HTML page. (YAML
//! and JSON stay the files Rungs reads back.)

use crate::{MatrixFormat, export_matrix};
use rungs_domain::matrix::{Cell, Level, LevelStyle, Matrix, Resource, Track};

/// Every way a matrix can be written out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Yaml,
    Json,
    Csv,
    Markdown,
    Html,
}

impl From<MatrixFormat> for ExportFormat {
    fn from(f: MatrixFormat) -> Self {
        match f {
            MatrixFormat::Yaml => Self::Yaml,
            MatrixFormat::Json => Self::Json,
        }
    }
}

/// The matrix in `format`.
pub fn render_matrix(m: &Matrix, format: ExportFormat) -> String {
    match format {
        ExportFormat::Yaml => export_matrix(m, MatrixFormat::Yaml),
        ExportFormat::Json => export_matrix(m, MatrixFormat::Json),
        ExportFormat::Csv => crate::matrix_csv::export_matrix_csv(m),
        ExportFormat::Markdown => markdown(m),
        ExportFormat::Html => html(m),
    }
}

/// Text safe inside a Markdown table cell: no pipes or line breaks, and no inline HTML.
fn md(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\r', '\n'], " ")
}

fn md_resource(r: &Resource) -> String {
    match &r.url {
        Some(u) => format!(
            "[{}](<{}>)",
            md(&r.title).replace(['[', ']'], ""),
            u.replace('>', "%3E")
        ),
        None => md(&r.title),
    }
}

/// Matrices wider than this are written track by track instead of as one table.
const TABLE_MAX_LEVELS: usize = 5;

/// Does the matrix say more than a tracks-by-levels table of short names can show?
fn needs_details(m: &Matrix) -> bool {
    m.levels().len() > TABLE_MAX_LEVELS
        || m.tracks().iter().any(|t| {
            t.branches_from.is_some()
                || t.cells.iter().any(|c| {
                    c.summary.is_some()
                        || c.expectations.iter().any(|e| {
                            e.title.is_some() || !e.examples.is_empty() || e.label() != e.name
                        })
                })
        })
}

/// Markdown text kept as Markdown (lists, emphasis), without inline HTML, indented under a
/// list item.
fn md_block(s: &str, indent: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .lines()
        .map(|l| format!("{indent}{l}").trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The rungs a track's section lists: its own (a branch's trunk is its parent's).
fn own_rungs<'a>(m: &'a Matrix, t: &'a Track) -> Vec<(&'a Level, Option<&'a Cell>)> {
    t.own_levels(m)
        .iter()
        .filter_map(|k| m.level(k.as_str()))
        .map(|l| (l, t.cells.iter().find(|c| c.level == l.key)))
        .collect()
}

fn ladder_line(m: &Matrix, t: &Track) -> String {
    let rungs: Vec<String> = m
        .ladder(t.key.as_str())
        .iter()
        .map(|l| l.name.clone())
        .collect();
    let mut line = format!("Ladder: {}", rungs.join(" → "));
    if let Some(b) = &t.branches_from {
        let parent = m
            .track(b.track.as_str())
            .map_or(b.track.as_str(), |p| p.name.as_str());
        let at = m
            .level(b.level.as_str())
            .map_or(b.level.as_str(), |l| l.name.as_str());
        line.push_str(&format!(" (branches from {parent} after {at})"));
    }
    line
}

fn markdown(m: &Matrix) -> String {
    let mut out = format!("# {}\n\n", md(m.name()));
    if let Some(d) = m.description() {
        out.push_str(&format!("{}\n\n", d.trim()));
    }
    if m.level_style() == LevelStyle::Restated {
        out.push_str("Each level describes the whole role.\n\n");
    }
    let details = needs_details(m);
    if m.levels().len() <= TABLE_MAX_LEVELS {
        out.push_str("| Track |");
        for l in m.levels() {
            out.push_str(&format!(" {} |", md(&l.header())));
        }
        out.push_str("\n|---|");
        out.push_str(&"---|".repeat(m.levels().len()));
        out.push('\n');
        for t in m.tracks() {
            out.push_str(&format!("| **{}** |", md(&t.name)));
            for l in m.levels() {
                let mut parts = Vec::new();
                if let Some(c) = t.cells.iter().find(|c| c.level == l.key) {
                    if !c.titles.is_empty() {
                        parts.push(format!("*{}*", md(&c.titles.join(", "))));
                    }
                    parts.extend(
                        c.expectations
                            .iter()
                            .map(|e| format!("• {}", md(&e.label()))),
                    );
                } else if m.has_position(t.key.as_str(), l.key.as_str())
                    && t.branches_from.is_some()
                {
                    parts.push("(shared)".into());
                }
                out.push_str(&format!(" {} |", parts.join("<br>")));
            }
            out.push('\n');
        }
    }
    for t in m.tracks() {
        let titles: Vec<&str> = t
            .cells
            .iter()
            .flat_map(|c| c.titles.iter().map(String::as_str))
            .collect();
        let resources: Vec<(String, &Resource)> = t
            .cells
            .iter()
            .flat_map(|c| {
                c.resources.iter().map(|r| (c.level.to_string(), r)).chain(
                    c.expectations
                        .iter()
                        .flat_map(|e| e.resources.iter().map(|r| (e.label(), r))),
                )
            })
            .collect();
        if !details && titles.is_empty() && resources.is_empty() {
            continue;
        }
        out.push_str(&format!("\n## {}\n\n", md(&t.name)));
        if let Some(d) = &t.description {
            out.push_str(&format!("{}\n\n", d.trim()));
        }
        if details {
            out.push_str(&format!("{}\n\n", md(&ladder_line(m, t))));
            for (l, cell) in own_rungs(m, t) {
                out.push_str(&format!("### {}", md(&l.header())));
                if let Some(c) = cell.filter(|c| !c.titles.is_empty()) {
                    out.push_str(&format!(" ({})", md(&c.titles.join(", "))));
                }
                out.push_str("\n\n");
                let Some(c) = cell else { continue };
                if let Some(sm) = &c.summary {
                    out.push_str(&format!("{}\n\n", md_block(sm, "")));
                }
                for e in &c.expectations {
                    let comp = m.competency_label(e).map(|c| format!(" *({})*", md(&c)));
                    out.push_str(&format!(
                        "- **{}**{}\n",
                        md(&e.label()),
                        comp.unwrap_or_default()
                    ));
                    if e.label() != e.name {
                        out.push_str(&format!("\n{}\n\n", md_block(&e.name, "  ")));
                    }
                    for x in &e.examples {
                        out.push_str(&format!(
                            "  - Example: {}\n",
                            md_block(x, "    ").trim_start()
                        ));
                    }
                }
                out.push('\n');
            }
        } else if !titles.is_empty() {
            out.push_str(&format!(
                "Career progression: {}\n\n",
                md(&titles.join(" → "))
            ));
        }
        for (at, r) in resources {
            out.push_str(&format!(
                "- {} ({}, {})\n",
                md_resource(r),
                r.kind.as_str(),
                md(&at)
            ));
        }
    }
    out
}

use crate::markdown::{escape as esc, to_html as md_html};

fn html_resource(r: &Resource) -> String {
    match &r.url {
        // Only web links (the matrix rules allow nothing else) become anchors.
        Some(u) if u.starts_with("https://") || u.starts_with("http://") => {
            format!("<a href=\"{}\">{}</a>", esc(u), esc(&r.title))
        }
        _ => esc(&r.title),
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;color:#222}\
table{border-collapse:collapse;width:100%;font-size:.9rem}\
th,td{border:1px solid #999;padding:.4rem;vertical-align:top;text-align:left}\
th{background:#eee}td.track{font-weight:bold;white-space:nowrap}\
.titles{font-style:italic;color:#555;display:block;margin-bottom:.2rem}\
.text{margin:.2rem 0}.text p,.summary p{margin:.2rem 0}.summary{margin:.2rem 0 .4rem}.muted{color:#555}\
ul{margin:.2rem 0;padding-left:1.1rem}\
@media print{body{margin:0}table{font-size:8pt}a{color:inherit}thead{display:table-header-group}tr{break-inside:avoid}\
section.track+section.track{break-before:page}}\
@page{size:A4 landscape;margin:1cm}";

/// A cell's content: titles, summary, criteria (with their text and examples when they say more
/// than their label).
fn html_cell(m: &Matrix, c: &Cell, out: &mut String) {
    if !c.titles.is_empty() {
        out.push_str(&format!(
            "<span class=\"titles\">{}</span>",
            esc(&c.titles.join(", "))
        ));
    }
    if let Some(sm) = &c.summary {
        out.push_str(&format!("<div class=\"summary\">{}</div>", md_html(sm)));
    }
    if c.expectations.is_empty() {
        return;
    }
    out.push_str("<ul>");
    for e in &c.expectations {
        let label = e.label();
        if label == e.name && e.examples.is_empty() {
            out.push_str(&format!("<li>{}</li>", esc(&e.name)));
            continue;
        }
        out.push_str(&format!("<li><strong>{}</strong>", esc(&label)));
        if let Some(comp) = m.competency_label(e) {
            out.push_str(&format!(" <span class=\"muted\">({})</span>", esc(&comp)));
        }
        if label != e.name {
            out.push_str(&format!("<div class=\"text\">{}</div>", md_html(&e.name)));
        }
        if !e.examples.is_empty() {
            out.push_str("<ul>");
            for x in &e.examples {
                out.push_str(&format!("<li>Example: {}</li>", md_html(x)));
            }
            out.push_str("</ul>");
        }
        out.push_str("</li>");
    }
    out.push_str("</ul>");
}

fn html(m: &Matrix) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        esc(m.name()),
        esc(m.name())
    );
    if let Some(d) = m.description() {
        out.push_str(&format!("<p class=\"text\">{}</p>\n", esc(d.trim())));
    }
    if m.level_style() == LevelStyle::Restated {
        out.push_str("<p>Each level describes the whole role.</p>\n");
    }
    let wide = m.levels().len() > TABLE_MAX_LEVELS;
    if !wide {
        out.push_str("<table>\n<thead><tr><th>Track</th>");
        for l in m.levels() {
            out.push_str(&format!("<th>{}</th>", esc(&l.header())));
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for t in m.tracks() {
            out.push_str(&format!("<tr><td class=\"track\">{}</td>", esc(&t.name)));
            for l in m.levels() {
                out.push_str("<td>");
                if let Some(c) = t.cells.iter().find(|c| c.level == l.key) {
                    html_cell(m, c, &mut out);
                } else if t.branches_from.is_some()
                    && m.has_position(t.key.as_str(), l.key.as_str())
                {
                    out.push_str("<span class=\"muted\">(shared)</span>");
                }
                out.push_str("</td>");
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table>\n");
    }
    for t in m.tracks() {
        let titles: Vec<&str> = t
            .cells
            .iter()
            .flat_map(|c| c.titles.iter().map(String::as_str))
            .collect();
        let resources: Vec<&Resource> = t
            .cells
            .iter()
            .flat_map(|c| {
                c.resources
                    .iter()
                    .chain(c.expectations.iter().flat_map(|e| &e.resources))
            })
            .collect();
        if !wide && titles.is_empty() && resources.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "<section class=\"track\">\n<h2>{}</h2>\n",
            esc(&t.name)
        ));
        if wide {
            // One table per track: a row per rung, so no column is lost however many levels.
            out.push_str(&format!("<p>{}</p>\n", esc(&ladder_line(m, t))));
            out.push_str(
                "<table>\n<thead><tr><th>Level</th><th>Expects</th></tr></thead>\n<tbody>\n",
            );
            for (l, cell) in own_rungs(m, t) {
                out.push_str(&format!(
                    "<tr><td class=\"track\">{}</td><td>",
                    esc(&l.header())
                ));
                if let Some(c) = cell {
                    html_cell(m, c, &mut out);
                }
                out.push_str("</td></tr>\n");
            }
            out.push_str("</tbody>\n</table>\n");
        } else if !titles.is_empty() {
            out.push_str(&format!(
                "<p>Career progression: {}</p>\n",
                esc(&titles.join(" → "))
            ));
        }
        if !resources.is_empty() {
            out.push_str("<ul>");
            for r in resources {
                out.push_str(&format!(
                    "<li>{} ({})</li>",
                    html_resource(r),
                    r.kind.as_str()
                ));
            }
            out.push_str("</ul>\n");
        }
        out.push_str("</section>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn python() -> Matrix {
        crate::templates::template("python").unwrap().unwrap()
    }

    #[test]
    fn markdown_is_a_tracks_by_levels_table_like_the_seed() {
        let md = render_matrix(&python(), ExportFormat::Markdown);
        let header = md.lines().find(|l| l.starts_with("| Track |")).unwrap();
        assert_eq!(
            header,
            "| Track | Level 1: Beginner | Level 2: Intermediate | Level 3: Advanced | Level 4: Expert | Level 5: Leader |"
        );
        let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| **")).collect();
        assert_eq!(rows.len(), 6, "one row per track");
        assert!(rows[0].starts_with("| **Python Developer** |"));
        assert!(
            rows[0].contains("• Basic syntax<br>• Simple data structures"),
            "{}",
            rows[0]
        );
        // Every row has as many cells as the header.
        for r in &rows {
            assert_eq!(r.matches(" |").count(), header.matches(" |").count(), "{r}");
        }
        assert!(
            md.contains("Career progression: Python Programming Intern → Junior Python Developer")
        );
    }

    #[test]
    fn markdown_and_html_escape_what_the_matrix_says() {
        let mut d = python().to_draft();
        d.tracks[0].name = "C|D <b>&</b>".into();
        d.tracks[0].cells[0].expectations[0].name = "x | y".into();
        let m = Matrix::new(&d).unwrap();
        let md = render_matrix(&m, ExportFormat::Markdown);
        assert!(
            md.contains("| **C\\|D &lt;b&gt;&amp;&lt;/b&gt;** |"),
            "{md}"
        );
        assert!(!md.contains("<b>"), "no inline HTML from the matrix");
        assert!(md.contains("• x \\| y"));
        let html = render_matrix(&m, ExportFormat::Html);
        assert!(html.contains("C|D &lt;b&gt;&amp;&lt;/b&gt;"));
        assert!(!html.contains("<b>&</b>"));
    }

    #[test]
    fn html_is_one_printable_page() {
        let html = render_matrix(&python(), ExportFormat::Html);
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("@media print"), "print styles");
        assert!(
            !html.contains("<link") && !html.contains("<script"),
            "self-contained"
        );
        assert_eq!(html.matches("<tr><td class=\"track\">").count(), 6);
        assert_eq!(html.matches("<th>").count(), 6, "track + five levels");
        assert!(html.contains("<li>Basic syntax</li>"));
        assert!(html.trim_end().ends_with("</html>"));
    }
}
