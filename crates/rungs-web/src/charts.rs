//! Charts, drawn as SVG on the server by charts-rs; every chart has a text alternative (its
//! `aria-label`, and a table on the page with the same numbers).

use charts_rs::{RadarChart, RadarIndicator, Series};
use rungs_domain::assessment::Rating;
use rungs_domain::growth::{GrowthPlan, PlanItem};
use rungs_domain::matrix::Matrix;

/// Where "meets" sits on the scale the charts draw (not yet 0 … exceeds 3).
pub(crate) const EXPECTED: f32 = 2.0;

fn scale(r: Rating) -> f32 {
    match r {
        Rating::NotYet => 0.0,
        Rating::Developing => 1.0,
        Rating::Meets => 2.0,
        Rating::Exceeds => 3.0,
    }
}

/// One axis of the radar: a competency group of the plan, with its ratings averaged.
pub(crate) struct RadarGroup {
    pub name: String,
    pub criteria: usize,
    pub met: usize,
    /// The manager's ratings on the scale, averaged over the group's criteria (a criterion of
    /// a level already held counts as "meets"; one not rated yet as 0).
    pub manager: f32,
    /// My own ratings, the same way (`None` when I rated none of them).
    pub myself: Option<f32>,
}

impl RadarGroup {
    pub fn manager_text(&self) -> String {
        format!("{:.1}", self.manager)
    }
    pub fn myself_text(&self) -> String {
        self.myself
            .map_or_else(|| "not rated".to_owned(), |v| format!("{v:.1}"))
    }
}

/// The plan's criteria grouped by competency; by competency and level when that gives fewer
/// than three axes (a radar needs three).
pub(crate) fn groups(plan: &GrowthPlan, m: &Matrix) -> Vec<RadarGroup> {
    let competency = |i: &PlanItem| {
        m.competency_label(&i.expectation)
            .unwrap_or_else(|| "Other".to_owned())
    };
    let by = |name: &dyn Fn(&PlanItem) -> String| {
        let mut out: Vec<(String, Vec<&PlanItem>)> = Vec::new();
        for i in &plan.items {
            let n = name(i);
            match out.iter_mut().find(|(k, _)| *k == n) {
                Some((_, v)) => v.push(i),
                None => out.push((n, vec![i])),
            }
        }
        out
    };
    let mut grouped = by(&competency);
    if grouped.len() < 3 {
        grouped = by(&|i: &PlanItem| format!("{} · {}", competency(i), i.level.name));
    }
    grouped
        .into_iter()
        .map(|(name, items)| {
            let n = items.len();
            #[allow(clippy::cast_precision_loss)]
            let avg = |sum: f32| sum / n.max(1) as f32;
            let manager = avg(items
                .iter()
                .map(|i| {
                    if i.held {
                        EXPECTED.max(i.manager.as_ref().map_or(0.0, |a| scale(a.rating)))
                    } else {
                        i.manager.as_ref().map_or(0.0, |a| scale(a.rating))
                    }
                })
                .sum());
            let rated = items.iter().any(|i| i.myself.is_some());
            let myself = rated.then(|| {
                avg(items
                    .iter()
                    .map(|i| i.myself.as_ref().map_or(0.0, |a| scale(a.rating)))
                    .sum())
            });
            RadarGroup {
                name,
                criteria: n,
                met: items.iter().filter(|i| i.is_met()).count(),
                manager,
                myself,
            }
        })
        .collect()
}

/// The radar chart of `groups` against what the target expects, or `None` when there are
/// fewer than three groups (the table alone says it then).
pub(crate) fn radar(groups: &[RadarGroup]) -> Option<String> {
    if groups.len() < 3 {
        return None;
    }
    let indicators: Vec<RadarIndicator> = groups
        .iter()
        .map(|g| RadarIndicator {
            name: g.name.clone(),
            min: 0.0,
            max: 3.0,
        })
        .collect();
    let mut series = vec![
        Series::new("Expected".into(), vec![EXPECTED; groups.len()]),
        Series::new(
            "Manager's rating".into(),
            groups.iter().map(|g| g.manager).collect(),
        ),
    ];
    if groups.iter().any(|g| g.myself.is_some()) {
        series.push(Series::new(
            "My rating".into(),
            groups.iter().map(|g| g.myself.unwrap_or(0.0)).collect(),
        ));
    }
    let mut chart = RadarChart::new(series, indicators);
    // Room on both sides for the axes' names.
    chart.width = 720.0;
    chart.height = 440.0;
    chart.margin = charts_rs::Box {
        left: 150.0,
        right: 150.0,
        top: 10.0,
        bottom: 10.0,
    };
    labelled(
        chart.svg(),
        "Radar chart of your ratings per competency group against what the next level \
         expects; the table below gives the same numbers.",
    )
}

/// The people per position as horizontal bars, or `None` when there is nothing to draw.
pub(crate) fn level_bars(levels: &[(String, u64)]) -> Option<String> {
    #[allow(clippy::cast_precision_loss)]
    let rows: Vec<(String, f32)> = levels.iter().map(|(k, n)| (k.clone(), *n as f32)).collect();
    bars(
        &rows,
        "People",
        "Bar chart of people per position; the table below gives the same numbers.",
    )
}

/// One series as horizontal bars, a bar per row (label, value), or `None` when there is
/// nothing to draw.
pub(crate) fn bars(rows: &[(String, f32)], series: &str, label: &str) -> Option<String> {
    if rows.is_empty() {
        return None;
    }
    let mut chart = charts_rs::HorizontalBarChart::new(
        vec![Series::new(
            series.into(),
            rows.iter().map(|(_, v)| *v).collect(),
        )],
        rows.iter().map(|(k, _)| k.clone()).collect(),
    );
    chart.width = 720.0;
    #[allow(clippy::cast_precision_loss)]
    let height = 80.0 + 28.0 * rows.len() as f32;
    chart.height = height;
    chart.legend.show = Some(false);
    labelled(chart.svg(), label)
}

/// Vertical bars over `categories`, one bar per series in each (a legend names the series),
/// or `None` when there is nothing to draw.
pub(crate) fn grouped_bars(
    categories: &[String],
    series: &[(String, Vec<f32>)],
    label: &str,
) -> Option<String> {
    if categories.is_empty() || series.is_empty() {
        return None;
    }
    let mut chart = charts_rs::BarChart::new(
        series
            .iter()
            .map(|(name, values)| Series::new(name.clone(), values.clone()))
            .collect(),
        categories.to_vec(),
    );
    chart.width = 720.0;
    chart.height = 360.0;
    chart.legend.show = Some(series.len() > 1);
    chart.x_axis.font.size = 12.0;
    // Counts: whole numbers on the axis (a small maximum is split into steps of one).
    let top = series
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .fold(0.0_f32, f32::max)
        .ceil()
        .max(1.0);
    if top <= 10.0
        && let Some(y) = chart.y_axis_configs.first_mut()
    {
        y.min = Some(0.0);
        y.max = Some(top);
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let steps = top as usize;
        y.split_number = steps;
    }
    labelled(chart.svg(), label)
}

/// The team × competency heatmap (the share of each person's next-level criteria met, 0 to
/// 100, printed in every cell so that colour is not the only signal), or `None` when there is
/// nothing to draw. `rows` are (name, one share per competency), drawn top to bottom.
pub(crate) fn heatmap(competencies: &[String], rows: &[(String, Vec<u32>)]) -> Option<String> {
    if competencies.is_empty() || rows.is_empty() {
        return None;
    }
    let n = rows.len();
    // charts-rs counts rows from the bottom.
    let data: Vec<(usize, f32)> = rows
        .iter()
        .enumerate()
        .flat_map(|(i, (_, shares))| {
            shares.iter().enumerate().map(move |(j, p)| {
                #[allow(clippy::cast_precision_loss)]
                let v = *p as f32;
                ((n - 1 - i) * competencies.len() + j, v)
            })
        })
        .collect();
    let mut chart = charts_rs::HeatmapChart::new(
        data,
        competencies.to_vec(),
        rows.iter().rev().map(|(name, _)| name.clone()).collect(),
    );
    chart.width = 720.0;
    #[allow(clippy::cast_precision_loss)]
    let height = 70.0 + 30.0 * n as f32;
    chart.height = height;
    chart.heatmap_series.min = 0.0;
    chart.heatmap_series.max = 100.0;
    chart.heatmap_series.min_color = (0xf1, 0xf5, 0xfb).into();
    chart.heatmap_series.max_color = (0x1d, 0x4e, 0x89).into();
    chart.heatmap_series.min_font_color = (0x1f, 0x29, 0x37).into();
    chart.heatmap_series.max_font_color = (0xff, 0xff, 0xff).into();
    chart.x_axis.font.size = 12.0;
    labelled(
        chart.svg(),
        "Heatmap of the share of next-level criteria met per person and competency; the table \
         below gives the same numbers.",
    )
}

/// A drawn chart marked as one image with its text alternative (`label`, plain text with no
/// quotes), or `None`, logged, when charts-rs could not draw it.
fn labelled<E: std::fmt::Display>(svg: Result<String, E>, label: &str) -> Option<String> {
    let svg = svg
        .map_err(|e| tracing::warn!(error = %e, label, "a chart could not be drawn"))
        .ok()?;
    Some(svg.replacen(
        "<svg ",
        &format!("<svg role=\"img\" aria-label=\"{label}\" class=\"chart\" "),
        1,
    ))
}
