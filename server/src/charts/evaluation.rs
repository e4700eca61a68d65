//! How well a model did in cross-validation, drawn for the models page and as MLflow artifacts:
//! a confusion matrix, ROC and precision-recall curves and a reliability chart (calibration)
//! for failure models, predicted against
//! actual remaining life for remaining-life models, and feature importance for both. Each SVG
//! carries its own `<title>` and `<desc>`, because as an artifact it stands alone.

use app::model::Chart;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::{
    follow_colour_scheme, placeholder, styled_mesh, text_style, CRITICAL, LABEL_FONT, LINE,
};
use ml::calibration::CalibrationReport;
use ml::evaluation::{thin, INTERVAL_COVERAGE};
use ml::metrics::Confusion;
use ml::model::{ModelCard, Task};

type Drawn = Result<String, Box<dyn std::error::Error>>;

/// Narrower than the trend charts: a phone shows a chart about 340 px wide, and text shrinks
/// less from 480.
const WIDTH: u32 = 480;
/// Room for a square plotting area with its caption and axis labels.
const SQUARE_HEIGHT: u32 = 470;
const MATRIX_HEIGHT: u32 = 340;
const MARGIN: u32 = 14;
/// Points kept of a curve or a scatter: more add bytes, not detail, at this width.
const CURVE_POINTS: usize = 400;
const SCATTER_POINTS: usize = 500;
/// Bars on the importance chart: beyond these they are too short to tell apart.
const TOP_FEATURES: usize = 15;
/// A row of the importance chart: the name on a line of its own, so long names stay readable
/// on a phone, over its bar.
const IMPORTANCE_ROW: u32 = 48;
/// Longer feature names are cut to fit one line on a phone (the description has them whole).
const NAME_CHARS: usize = 40;
const NO_DATA: &str = "No data";

/// The evaluation charts of the model's task, as the models page shows them.
pub fn evaluation_charts(card: &ModelCard) -> Vec<Chart> {
    named_charts(card)
        .into_iter()
        .map(|(_, chart)| chart)
        .collect()
}

/// `(file name, SVG)` of each evaluation chart, for MLflow.
pub fn evaluation_plots(card: &ModelCard) -> Vec<(String, String)> {
    named_charts(card)
        .into_iter()
        .map(|(file_name, chart)| (file_name.to_string(), chart.svg))
        .collect()
}

/// Each chart that applies to the model's task with its artifact file name: how often the
/// model is right first, what it relies on last.
fn named_charts(card: &ModelCard) -> Vec<(&'static str, Chart)> {
    let evaluation = &card.evaluation;
    let mut charts = match card.task {
        Task::Classification => {
            let metrics = evaluation.classification.as_ref();
            vec![
                (
                    "confusion_matrix.svg",
                    confusion_matrix(
                        &metrics.map(|m| m.confusion).unwrap_or_default(),
                        metrics.map(|m| m.threshold),
                    ),
                ),
                (
                    "roc_curve.svg",
                    roc_curve(&evaluation.roc_curve, metrics.map(|m| m.roc_auc)),
                ),
                (
                    "pr_curve.svg",
                    precision_recall_curve(
                        &evaluation.pr_curve,
                        metrics.map(|m| m.pr_auc),
                        metrics.map(|m| m.positives as f64 / m.rows as f64),
                    ),
                ),
                (
                    "calibration.svg",
                    reliability(evaluation.calibration.as_ref()),
                ),
            ]
        }
        Task::Regression => vec![(
            "residuals.svg",
            residuals(
                &evaluation.residuals,
                card.life_unit.as_deref().unwrap_or(""),
                card.interval_half_width,
            ),
        )],
    };
    charts.push((
        "feature_importance.svg",
        feature_importance(&card.feature_names, &card.importances),
    ));
    charts
}

/// Failures caught and missed, false alarms and rightly quiet rows; `threshold` is the failure
/// probability from which the model raised an alarm.
pub fn confusion_matrix(confusion: &Confusion, threshold: Option<f64>) -> Chart {
    let title = "Confusion matrix";
    let c = confusion;
    let failures = c.true_positives + c.false_negatives;
    let healthy = c.false_positives + c.true_negatives;
    if failures + healthy == 0 {
        return finish(
            title,
            "No cross-validated predictions to count.".into(),
            placeholder(NO_DATA, (WIDTH, MATRIX_HEIGHT)),
        );
    }
    let lead = match threshold.filter(|t| t.is_finite()) {
        Some(t) => format!("At a failure probability threshold of about {t:.2}, of"),
        None => "Of".to_string(),
    };
    let description = format!(
        "{lead} {} the model caught {} and missed {}; of {} it raised {} and rightly stayed \
         quiet on {}.",
        counted(failures, "failure"),
        c.true_positives,
        c.false_negatives,
        counted(healthy, "healthy row"),
        counted(c.false_positives, "false alarm"),
        c.true_negatives
    );
    finish(title, description, draw_confusion(c))
}

fn draw_confusion(c: &Confusion) -> Drawn {
    // What happened in rows, what the model said in columns; right answers in blue, wrong ones
    // in red, deeper the larger their share of the row.
    let rows = [
        (
            "Failed",
            "failures",
            [
                (c.true_positives, "caught", LINE),
                (c.false_negatives, "missed", CRITICAL),
            ],
        ),
        (
            "Healthy",
            "healthy",
            [
                (c.false_positives, "false alarms", CRITICAL),
                (c.true_negatives, "rightly quiet", LINE),
            ],
        ),
    ];
    let (left, top, margin) = (110, 56, MARGIN as i32);
    let cell_width = (WIDTH as i32 - left - margin) / 2;
    let cell_height = (MATRIX_HEIGHT as i32 - top - margin) / 2;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, MATRIX_HEIGHT)).into_drawing_area();
        for (column, label) in ["Flagged", "Not flagged"].into_iter().enumerate() {
            root.draw(&Text::new(
                label,
                (left + cell_width * column as i32 + cell_width / 2, top / 2),
                text_style(LABEL_FONT, HPos::Center, VPos::Center),
            ))?;
        }
        for (row, (label, noun, cells)) in rows.into_iter().enumerate() {
            let y = top + cell_height * row as i32;
            root.draw(&Text::new(
                label,
                (left - 12, y + cell_height / 2),
                text_style(LABEL_FONT, HPos::Right, VPos::Center),
            ))?;
            let total: usize = cells.iter().map(|cell| cell.0).sum();
            for (column, (count, meaning, colour)) in cells.into_iter().enumerate() {
                let x = left + cell_width * column as i32;
                let share = count as f64 / total.max(1) as f64;
                root.draw(&Rectangle::new(
                    [(x + 2, y + 2), (x + cell_width - 2, y + cell_height - 2)],
                    colour.mix(0.08 + 0.42 * share).filled(),
                ))?;
                let (cx, cy) = (x + cell_width / 2, y + cell_height / 2);
                let centred = |size| text_style(size, HPos::Center, VPos::Center);
                root.draw(&Text::new(count.to_string(), (cx, cy - 22), centred(36)))?;
                root.draw(&Text::new(meaning, (cx, cy + 14), centred(LABEL_FONT)))?;
                if total > 0 {
                    root.draw(&Text::new(
                        format!("{} of {noun}", percent(share)),
                        (cx, cy + 40),
                        centred(LABEL_FONT),
                    ))?;
                }
            }
        }
        root.present()?;
    }
    Ok(svg)
}

/// Failures caught against false alarms, over every threshold: points are (false-positive rate,
/// true-positive rate); `auc` is the area under the curve.
pub fn roc_curve(points: &[[f64; 2]], auc: Option<f64>) -> Chart {
    let title = "ROC curve";
    let points = finite(points);
    if points.is_empty() {
        return finish(
            title,
            "No ROC curve: there are no cross-validated failure predictions.".into(),
            placeholder(NO_DATA, (WIDTH, SQUARE_HEIGHT)),
        );
    }
    let auc = auc.filter(|a| a.is_finite());
    let score = auc.map_or(String::new(), |a| {
        format!(": area under the curve {a:.3}, where 1 is perfect and 0.5 is chance")
    });
    let description = format!(
        "Share of failures caught against share of healthy rows flagged, one point per \
         threshold{score}. The diagonal is chance."
    );
    let caption = match auc {
        Some(a) => format!("AUC {a:.3}; diagonal: chance"),
        None => "Diagonal: chance".to_string(),
    };
    let rates = Rates {
        points,
        reference: Some([(0.0, 0.0), (1.0, 1.0)]),
        axes: ["False alarm rate", "Failures caught"],
        caption: Some(caption),
    };
    finish(title, description, rates.draw())
}

/// Share of alarms that were real failures against share of failures caught, over every
/// threshold: points are (recall, precision). `average_precision` sums the curve up;
/// `failure_share`, the failures' share of rows, is the precision of guessing.
pub fn precision_recall_curve(
    points: &[[f64; 2]],
    average_precision: Option<f64>,
    failure_share: Option<f64>,
) -> Chart {
    let title = "Precision-recall curve";
    let points = finite(points);
    if points.is_empty() {
        return finish(
            title,
            "No precision-recall curve: there are no cross-validated failure predictions.".into(),
            placeholder(NO_DATA, (WIDTH, SQUARE_HEIGHT)),
        );
    }
    let average_precision = average_precision.filter(|a| a.is_finite());
    let guessing = failure_share.filter(|s| s.is_finite());
    let mut description = "Share of alarms that were real failures (precision) against share of \
                           failures caught (recall), one point per threshold"
        .to_string();
    let mut caption = Vec::new();
    if let Some(a) = average_precision {
        description += &format!(": average precision {a:.3}, where 1 is perfect");
        caption.push(format!("Average precision {a:.3}"));
    }
    description.push('.');
    if let Some(g) = guessing {
        description += &format!(
            " The flat line is guessing: failures are {} of rows.",
            percent(g)
        );
        caption.push("flat line: guessing".to_string());
    }
    let rates = Rates {
        points,
        reference: guessing.map(|g| [(0.0, g), (1.0, g)]),
        axes: ["Failures caught (recall)", "Right alarms (precision)"],
        caption: (!caption.is_empty()).then(|| caption.join("; ")),
    };
    finish(title, description, rates.draw())
}

/// Observed failure frequency against predicted probability, one point per bin of predicted
/// probability, from cross-validation with each fold calibrated on the others.
pub fn reliability(report: Option<&CalibrationReport>) -> Chart {
    let title = "Calibration";
    let Some(report) = report.filter(|r| !r.bins.is_empty()) else {
        return finish(
            title,
            "No calibration: the model was made before icantkube calibrated failure \
             probabilities, or it has no cross-validated predictions."
                .into(),
            placeholder(NO_DATA, (WIDTH, SQUARE_HEIGHT)),
        );
    };
    let bins: Vec<String> = report
        .bins
        .iter()
        .map(|b| {
            format!(
                "{} predicted, {} observed in {}",
                percent(b.predicted),
                percent(b.observed),
                counted(b.rows, "row")
            )
        })
        .collect();
    let description = format!(
        "Share of rows that failed against the failure probability predicted for them, one \
         point per tenth of the probability scale: {}. On the diagonal a probability means what \
         it says. Brier score {:.4} ({:.4} before calibration; 0 is perfect); expected \
         calibration error {}.",
        bins.join("; "),
        report.brier,
        report.brier_uncalibrated,
        percent(report.expected_calibration_error)
    );
    let rates = Rates {
        points: report
            .bins
            .iter()
            .map(|b| (b.predicted, b.observed))
            .collect(),
        reference: Some([(0.0, 0.0), (1.0, 1.0)]),
        axes: ["Predicted failure probability", "Observed failure share"],
        caption: Some(format!(
            "Brier score {:.4}; diagonal: calibrated",
            report.brier
        )),
    };
    finish(title, description, rates.draw())
}

/// A curve of rates on 0–100 % axes, over what chance or guessing gives, with its score above.
struct Rates {
    points: Vec<(f64, f64)>,
    reference: Option<[(f64, f64); 2]>,
    axes: [&'static str; 2],
    caption: Option<String>,
}

impl Rates {
    fn draw(self) -> Drawn {
        let points = thin(self.points, CURVE_POINTS);
        let mut svg = String::new();
        {
            let root =
                SVGBackend::with_string(&mut svg, (WIDTH, SQUARE_HEIGHT)).into_drawing_area();
            let mut builder = ChartBuilder::on(&root);
            builder
                .margin(MARGIN)
                // Room for the last x label, centred on the plot's right edge.
                .margin_right(MARGIN + 16)
                .x_label_area_size(56)
                .y_label_area_size(76);
            if let Some(caption) = &self.caption {
                builder.caption(caption, ("sans-serif", LABEL_FONT));
            }
            let mut chart = builder.build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
            styled_mesh(&mut chart.configure_mesh())
                .x_labels(6)
                .y_labels(6)
                .x_label_formatter(&|v: &f64| format!("{:.0}%", v * 100.0))
                .y_label_formatter(&|v: &f64| format!("{:.0}%", v * 100.0))
                .x_desc(self.axes[0])
                .y_desc(self.axes[1])
                .draw()?;
            if let Some(reference) = self.reference {
                chart.draw_series(LineSeries::new(reference, BLACK.mix(0.35)))?;
            }
            chart.draw_series(LineSeries::new(
                points.iter().copied(),
                LINE.stroke_width(2),
            ))?;
            if let [only] = points[..] {
                chart.draw_series(std::iter::once(Circle::new(only, 4, LINE.filled())))?;
            }
            root.present()?;
        }
        Ok(svg)
    }
}

/// Remaining life predicted against what was actually left, at the evaluation's cut points:
/// points are (actual, predicted) in `unit`. The shaded band is the model's interval,
/// ± `interval_half_width` around a perfect prediction.
pub fn residuals(points: &[[f64; 2]], unit: &str, interval_half_width: Option<f64>) -> Chart {
    let title = "Predicted vs actual remaining life";
    let points = finite(points);
    if points.is_empty() {
        return finish(
            title,
            "No remaining-life predictions to compare.".into(),
            placeholder(NO_DATA, (WIDTH, SQUARE_HEIGHT)),
        );
    }
    let half_width = interval_half_width.filter(|h| h.is_finite() && *h > 0.0);
    let in_unit = if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    };
    let count = points.len() as f64;
    let share = |inside: &dyn Fn(f64, f64) -> bool| {
        points.iter().filter(|(a, p)| inside(*a, *p)).count() as f64 / count
    };
    let mean_error = points.iter().map(|(a, p)| (p - a).abs()).sum::<f64>() / count;
    let mut description = format!(
        "Predicted against actual remaining life at {}: off by {mean_error:.1}{in_unit} on \
         average; {} predicted more life than was left (optimistic)",
        counted(points.len(), "point"),
        percent(share(&|a, p| p > a)),
    );
    if let Some(h) = half_width {
        description += &format!(
            "; {} inside the shaded {} interval of ± {h:.1}{in_unit}",
            percent(share(&|a, p| (p - a).abs() <= h)),
            percent(INTERVAL_COVERAGE)
        );
    }
    description.push('.');
    finish(title, description, draw_residuals(points, unit, half_width))
}

fn draw_residuals(points: Vec<(f64, f64)>, unit: &str, half_width: Option<f64>) -> Drawn {
    let (low, high) = life_range(&points);
    let points = thin(points, SCATTER_POINTS);
    let in_unit = if unit.is_empty() {
        String::new()
    } else {
        format!(" ({unit})")
    };
    // Whole units unless the range is too short for them to tell ticks apart.
    let decimals = usize::from(high - low < 10.0);
    let label = move |v: &f64| format!("{v:.decimals$}");
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, SQUARE_HEIGHT)).into_drawing_area();
        let mut builder = ChartBuilder::on(&root);
        builder
            .margin(MARGIN)
            // Room for the last x label, centred on the plot's right edge.
            .margin_right(MARGIN + 16)
            .x_label_area_size(56)
            .y_label_area_size(76);
        if let Some(h) = half_width {
            let caption = format!(
                "Band: {} interval, ± {h:.0} {unit}",
                percent(INTERVAL_COVERAGE)
            );
            builder.caption(caption.trim_end(), ("sans-serif", LABEL_FONT));
        }
        // One range on both axes, so a perfect prediction is the diagonal.
        let mut chart = builder.build_cartesian_2d(low..high, low..high)?;
        if let Some(h) = half_width {
            chart.draw_series(std::iter::once(Polygon::new(
                band(low, high, h),
                LINE.mix(0.12).filled(),
            )))?;
        }
        styled_mesh(&mut chart.configure_mesh())
            .x_labels(5)
            .y_labels(5)
            .x_label_formatter(&label)
            .y_label_formatter(&label)
            .x_desc(format!("Actual remaining life{in_unit}"))
            .y_desc(format!("Predicted{in_unit}"))
            .draw()?;
        chart.draw_series(LineSeries::new([(low, low), (high, high)], BLACK.mix(0.35)))?;
        chart.draw_series(
            points
                .iter()
                .map(|&p| Circle::new(p, 3, LINE.mix(0.55).filled())),
        )?;
        // Above the diagonal the model promised more life than was left: the costly mistake.
        let inset = 0.03 * (high - low);
        chart.draw_series([
            Text::new(
                "optimistic",
                (low + inset, high - inset),
                text_style(LABEL_FONT, HPos::Left, VPos::Top),
            ),
            Text::new(
                "cautious",
                (high - inset, low + inset),
                text_style(LABEL_FONT, HPos::Right, VPos::Bottom),
            ),
        ])?;
        root.present()?;
    }
    Ok(svg)
}

/// From zero (life is never negative; a prediction may be) to a little above the largest value,
/// at least one unit wide so a single point has room.
fn life_range(points: &[(f64, f64)]) -> (f64, f64) {
    let (low, high) = points
        .iter()
        .flat_map(|&(a, p)| [a, p])
        .fold((0.0_f64, 0.0_f64), |(low, high), v| {
            (low.min(v), high.max(v))
        });
    (low, low + (high - low).max(1.0) * 1.05)
}

/// Where |predicted − actual| ≤ `h`, cut to the square from `low` to `high`.
fn band(low: f64, high: f64, h: f64) -> Vec<(f64, f64)> {
    vec![
        (low, (low + h).min(high)),
        ((high - h).max(low), high),
        (high, high),
        (high, (high - h).max(low)),
        ((low + h).min(high), low),
        (low, low),
    ]
}

/// The features the model leans on most, largest first, at most fifteen: `importances` are
/// shares summing to 1, in the order of `names`.
pub fn feature_importance(names: &[String], importances: &[f64]) -> Chart {
    let title = "Feature importance";
    let mut ranked: Vec<(&str, f64)> = names
        .iter()
        .map(String::as_str)
        .zip(importances.iter().copied())
        .filter(|(_, share)| share.is_finite())
        .collect();
    if ranked.is_empty() {
        return finish(
            title,
            "No feature importances.".into(),
            // As high as two bars: room for the message.
            placeholder(NO_DATA, (WIDTH, importance_height(2))),
        );
    }
    // A stable sort: equal shares keep the recipe's order.
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let features = ranked.len();
    ranked.truncate(TOP_FEATURES);
    let listed = ranked
        .iter()
        .map(|(name, share)| format!("{name} {}", percent(*share)))
        .collect::<Vec<_>>()
        .join(", ");
    let description = if features > ranked.len() {
        format!(
            "The {} most important of {features} features, by share of importance: {listed}.",
            ranked.len()
        )
    } else {
        format!("Share of importance of each feature: {listed}.")
    };
    finish(title, description, draw_importance(&ranked))
}

fn importance_height(rows: usize) -> u32 {
    2 * MARGIN + IMPORTANCE_ROW * rows as u32
}

fn draw_importance(ranked: &[(&str, f64)]) -> Drawn {
    let bar_height = 14;
    // Room after the longest bar for its value.
    let value_room = 80;
    let left = MARGIN as i32;
    let longest = f64::from(WIDTH - 2 * MARGIN - value_room);
    let largest = ranked.iter().map(|r| r.1).fold(0.0, f64::max);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, importance_height(ranked.len())))
            .into_drawing_area();
        for (k, (name, share)) in ranked.iter().enumerate() {
            let top = left + (IMPORTANCE_ROW as usize * k) as i32;
            root.draw(&Text::new(
                shorten(name),
                (left, top),
                text_style(LABEL_FONT, HPos::Left, VPos::Top),
            ))?;
            let length = if largest > 0.0 {
                (share.max(0.0) / largest * longest).round() as i32
            } else {
                0
            };
            let bar_top = top + 24;
            root.draw(&Rectangle::new(
                [(left, bar_top), (left + length, bar_top + bar_height)],
                LINE.filled(),
            ))?;
            root.draw(&Text::new(
                percent(*share),
                (left + length + 8, bar_top + bar_height / 2),
                text_style(LABEL_FONT, HPos::Left, VPos::Center),
            ))?;
        }
        root.present()?;
    }
    Ok(svg)
}

fn shorten(name: &str) -> String {
    if name.chars().count() <= NAME_CHARS {
        return name.to_string();
    }
    let kept: String = name.chars().take(NAME_CHARS - 1).collect();
    format!("{kept}…")
}

/// The chart, its SVG in the page's colour scheme and carrying its own text alternative.
fn finish(title: &str, description: String, drawn: Drawn) -> Chart {
    let svg = match drawn {
        Ok(svg) => with_text_alternative(&follow_colour_scheme(&svg), title, &description),
        Err(error) => {
            tracing::warn!(%error, chart = title, "chart rendering failed");
            String::new()
        }
    };
    Chart {
        title: title.to_string(),
        description,
        svg,
    }
}

/// `role="img"` and the title as the SVG's accessible name, and `<title>` and `<desc>` as its
/// first children, where screen readers and image viewers look for them.
fn with_text_alternative(svg: &str, title: &str, description: &str) -> String {
    let title = escape(title);
    // The first `>` closes the `<svg …>` tag: plotters escapes its attribute values.
    svg.replacen(
        "<svg ",
        &format!("<svg role=\"img\" aria-label=\"{title}\" "),
        1,
    )
    .replacen(
        '>',
        &format!(
            ">\n<title>{title}</title>\n<desc>{}</desc>",
            escape(description)
        ),
        1,
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Points with both coordinates finite: a NaN would make plotters draw nonsense.
fn finite(points: &[[f64; 2]]) -> Vec<(f64, f64)> {
    points
        .iter()
        .filter(|p| p.iter().all(|v| v.is_finite()))
        .map(|&[x, y]| (x, y))
        .collect()
}

/// `1 failure`, `2 failures`.
fn counted(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// `83 %`, or `0.5 %` for shares under a tenth, which whole percents would hide.
fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p == 0.0 || p.abs() >= 10.0 {
        format!("{p:.0} %")
    } else {
        format!("{p:.1} %")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulator::demo::{simulated_engines_csv, simulated_milling_csv};
    use ml::{self, Algorithm, Dataset, Hyperparameters, LoadOptions, TrainOptions};
    use rand::rngs::StdRng;
    use rand::SeedableRng;
    use roxmltree::{Document, Node};

    /// Parses the SVG, checks its text alternative and colour scheme, and returns it to look into.
    fn parse(chart: &Chart) -> Document<'_> {
        let document = Document::parse(&chart.svg).unwrap_or_else(|e| {
            panic!("{e} in {}", &chart.svg[..chart.svg.len().min(400)]);
        });
        let svg = document.root_element();
        assert_eq!(svg.tag_name().name(), "svg");
        assert_eq!(svg.attribute("role"), Some("img"));
        assert_eq!(svg.attribute("aria-label"), Some(chart.title.as_str()));
        let size = |name| svg.attribute(name).unwrap().to_string();
        assert_eq!(
            svg.attribute("viewBox"),
            Some(format!("0 0 {} {}", size("width"), size("height")).as_str())
        );
        let child = |name| {
            svg.children()
                .find(|n| n.tag_name().name() == name)
                .and_then(|n| n.text())
        };
        assert_eq!(child("title"), Some(chart.title.as_str()));
        assert_eq!(child("desc"), Some(chart.description.as_str()));
        assert!(!chart.svg.contains("#000000"), "black must follow the page");
        assert!(chart.svg.contains("currentColor"));
        document
    }

    fn elements<'a, 'input>(document: &'a Document<'input>, name: &str) -> Vec<Node<'a, 'input>> {
        document
            .descendants()
            .filter(|n| n.tag_name().name() == name)
            .collect()
    }

    /// Each `<text>`'s words and position.
    fn texts(document: &Document) -> Vec<(String, f64, f64)> {
        let number =
            |n: Node<'_, '_>, name: &str| n.attribute(name).unwrap().parse::<f64>().unwrap();
        elements(document, "text")
            .into_iter()
            .map(|n| {
                let words = n.text().unwrap_or_default().trim().to_string();
                (words, number(n, "x"), number(n, "y"))
            })
            .collect()
    }

    fn position(texts: &[(String, f64, f64)], words: &str) -> (f64, f64) {
        let found: Vec<_> = texts.iter().filter(|t| t.0 == words).collect();
        assert_eq!(found.len(), 1, "{words:?} in {texts:?}");
        (found[0].1, found[0].2)
    }

    /// Points in the longest polyline: the curve, not an axis.
    fn curve_points(document: &Document) -> usize {
        elements(document, "polyline")
            .iter()
            .map(|n| n.attribute("points").unwrap().split_whitespace().count())
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn every_chart_says_no_data_for_empty_input() {
        let charts = [
            confusion_matrix(&Confusion::default(), Some(0.5)),
            roc_curve(&[], Some(f64::NAN)),
            precision_recall_curve(&[[f64::NAN, 0.5]], None, None),
            residuals(&[], "cycles", Some(20.0)),
            feature_importance(&[], &[]),
            feature_importance(&["torque".to_string()], &[f64::NAN]),
        ];
        for chart in &charts {
            let document = parse(chart);
            let words: Vec<String> = texts(&document).into_iter().map(|t| t.0).collect();
            assert_eq!(words, ["No data"], "{}", chart.title);
            assert!(
                chart.description.starts_with("No "),
                "{}",
                chart.description
            );
        }
    }

    #[test]
    fn the_confusion_matrix_puts_each_count_in_its_cell() {
        let confusion = Confusion {
            true_positives: 17,
            false_negatives: 3,
            false_positives: 5,
            true_negatives: 960,
        };
        let chart = confusion_matrix(&confusion, Some(0.37));
        let texts = texts(&parse(&chart));
        let caught = position(&texts, "17");
        let missed = position(&texts, "3");
        let false_alarms = position(&texts, "5");
        let quiet = position(&texts, "960");
        // Failures on the top row, alarms in the left column.
        assert_eq!(caught.1, missed.1);
        assert_eq!(false_alarms.1, quiet.1);
        assert!(caught.1 < false_alarms.1);
        assert_eq!(caught.0, false_alarms.0);
        assert_eq!(missed.0, quiet.0);
        assert!(caught.0 < missed.0);
        position(&texts, "85 % of failures");
        position(&texts, "0.5 % of healthy");
        assert_eq!(
            chart.description,
            "At a failure probability threshold of about 0.37, of 20 failures the model caught \
             17 and missed 3; of 965 healthy rows it raised 5 false alarms and rightly stayed \
             quiet on 960."
        );
    }

    #[test]
    fn a_confusion_matrix_without_failures_shows_no_share_of_them() {
        let confusion = Confusion {
            true_negatives: 40,
            ..Confusion::default()
        };
        let chart = confusion_matrix(&confusion, None);
        let words: Vec<String> = texts(&parse(&chart)).into_iter().map(|t| t.0).collect();
        assert!(words.contains(&"100 % of healthy".to_string()), "{words:?}");
        assert!(
            !words.iter().any(|w| w.contains("of failures")),
            "{words:?}"
        );
        assert!(chart.description.starts_with("Of 0 failures"));
    }

    #[test]
    fn rate_curves_mark_a_single_point() {
        let roc = roc_curve(&[[0.2, 0.8]], Some(0.8));
        assert_eq!(elements(&parse(&roc), "circle").len(), 1);
        let pr = precision_recall_curve(&[[0.5, 0.9]], Some(0.45), Some(0.1));
        assert_eq!(elements(&parse(&pr), "circle").len(), 1);
    }

    #[test]
    fn long_rate_curves_are_thinned_and_carry_their_scores() {
        let roc_points: Vec<[f64; 2]> = (0..10_000)
            .map(|i| {
                let fpr = f64::from(i) / 9_999.0;
                [fpr, fpr.sqrt()]
            })
            .collect();
        let roc = roc_curve(&roc_points, Some(0.6667));
        let document = parse(&roc);
        assert!(curve_points(&document) <= CURVE_POINTS);
        assert!(curve_points(&document) > CURVE_POINTS / 2);
        assert!(roc.svg.len() < 60_000, "{} bytes", roc.svg.len());
        position(&texts(&document), "AUC 0.667; diagonal: chance");
        assert!(roc.description.contains("area under the curve 0.667"));

        let pr_points: Vec<[f64; 2]> = roc_points.iter().map(|[x, y]| [*y, 1.0 - x]).collect();
        let pr = precision_recall_curve(&pr_points, Some(0.71), Some(0.034));
        let document = parse(&pr);
        assert!(curve_points(&document) <= CURVE_POINTS);
        assert!(pr.svg.len() < 60_000, "{} bytes", pr.svg.len());
        position(
            &texts(&document),
            "Average precision 0.710; flat line: guessing",
        );
        assert!(
            pr.description.contains("failures are 3.4 % of rows"),
            "{}",
            pr.description
        );
    }

    #[test]
    fn residuals_count_optimistic_predictions_and_the_interval() {
        // Actual life 0..100; every fourth prediction 30 too long, the rest 4 too short.
        let points: Vec<[f64; 2]> = (0..10_000)
            .map(|i| {
                let actual = f64::from(i % 100);
                [
                    actual,
                    if i % 4 == 0 {
                        actual + 30.0
                    } else {
                        actual - 4.0
                    },
                ]
            })
            .collect();
        let chart = residuals(&points, "cycles", Some(10.0));
        let document = parse(&chart);
        let circles = elements(&document, "circle").len();
        assert!(
            circles <= SCATTER_POINTS && circles > SCATTER_POINTS / 2,
            "{circles}"
        );
        assert!(chart.svg.len() < 100_000, "{} bytes", chart.svg.len());
        assert_eq!(elements(&document, "polygon").len(), 1, "the interval band");
        let words: Vec<String> = texts(&document).into_iter().map(|t| t.0).collect();
        for expected in [
            "Band: 90 % interval, ± 10 cycles",
            "Actual remaining life (cycles)",
            "optimistic",
            "cautious",
        ] {
            assert!(
                words.iter().any(|w| w == expected),
                "{expected} in {words:?}"
            );
        }
        assert_eq!(
            chart.description,
            "Predicted against actual remaining life at 10000 points: off by 10.5 cycles on \
             average; 25 % predicted more life than was left (optimistic); 75 % inside the \
             shaded 90 % interval of ± 10.0 cycles."
        );
    }

    #[test]
    fn a_single_residual_has_room_around_it() {
        let chart = residuals(&[[0.0, 0.0]], "", None);
        let document = parse(&chart);
        assert_eq!(elements(&document, "circle").len(), 1);
        assert!(elements(&document, "polygon").is_empty());
        assert!(chart
            .description
            .contains("at 1 point: off by 0.0 on average"));
    }

    #[test]
    fn feature_importance_lists_the_top_features_largest_first() {
        let names: Vec<String> = (0..200).map(|i| format!("feature_{i:03}")).collect();
        // Rising with the index, so the last feature matters most.
        let total = 200.0 * 201.0 / 2.0;
        let importances: Vec<f64> = (1..=200).map(|i| f64::from(i) / total).collect();
        let chart = feature_importance(&names, &importances);
        let document = parse(&chart);
        let mut rows = texts(&document);
        rows.retain(|t| t.0.starts_with("feature_"));
        rows.sort_by(|a, b| a.2.total_cmp(&b.2));
        let order: Vec<&str> = rows.iter().map(|t| t.0.as_str()).collect();
        let expected: Vec<String> = (185..200)
            .rev()
            .map(|i| format!("feature_{i:03}"))
            .collect();
        assert_eq!(order, expected);
        assert!(!chart.description.contains("feature_184"));
        assert!(chart
            .description
            .starts_with("The 15 most important of 200 features"));
        assert!(
            chart.description.contains("feature_199 1.0 %"),
            "{}",
            chart.description
        );
        // The top bar is the longest.
        let widths: Vec<f64> = elements(&document, "rect")
            .iter()
            .map(|n| n.attribute("width").unwrap().parse().unwrap())
            .collect();
        assert_eq!(widths.len(), TOP_FEATURES);
        assert!(widths.windows(2).all(|w| w[0] >= w[1]), "{widths:?}");
        assert!(chart.svg.len() < 20_000, "{} bytes", chart.svg.len());
    }

    #[test]
    fn long_and_odd_feature_names_stay_readable_and_escaped() {
        let long = "rolling_mean_of_the_spindle_temperature_over_the_last_hour".to_string();
        let odd = "torque <max> & \"peak\"".to_string();
        let chart = feature_importance(&[long.clone(), odd.clone()], &[0.75, 0.25]);
        let words: Vec<String> = texts(&parse(&chart)).into_iter().map(|t| t.0).collect();
        let shortened = format!("{}…", &long[..NAME_CHARS - 1]);
        assert_eq!(
            words,
            [shortened.as_str(), "75 %", odd.as_str(), "25 %"],
            "{words:?}"
        );
        assert!(chart.description.contains(&long));
        assert!(chart
            .description
            .starts_with("Share of importance of each feature"));
    }

    fn quick(trees: usize, classification: bool) -> TrainOptions {
        TrainOptions {
            hyperparameters: Some(Hyperparameters {
                trees,
                ..Hyperparameters::defaults(Algorithm::RandomForest, classification)
            }),
            algorithm: Some(Algorithm::RandomForest),
            folds: 3,
            ..TrainOptions::default()
        }
    }

    fn names(plots: &[(String, String)]) -> Vec<&str> {
        plots.iter().map(|(name, _)| name.as_str()).collect()
    }

    #[test]
    fn a_trained_failure_model_gets_its_five_plots() {
        let csv = simulated_milling_csv(&mut StdRng::seed_from_u64(3), 2, 600).unwrap();
        let data = Dataset::load(csv.as_bytes(), &LoadOptions::default()).unwrap();
        let model = ml::train(&data, &quick(5, true), &mut |_: &str, _: u8| {}).unwrap();
        let plots = evaluation_plots(&model.card);
        assert_eq!(
            names(&plots),
            [
                "confusion_matrix.svg",
                "roc_curve.svg",
                "pr_curve.svg",
                "calibration.svg",
                "feature_importance.svg"
            ]
        );
        let charts = evaluation_charts(&model.card);
        assert_eq!(charts.len(), plots.len());
        for (chart, (name, svg)) in charts.iter().zip(&plots) {
            assert_eq!(&chart.svg, svg);
            let words: Vec<String> = texts(&parse(chart)).into_iter().map(|t| t.0).collect();
            assert!(!words.contains(&NO_DATA.to_string()), "{name}");
        }
    }

    #[test]
    fn a_trained_remaining_life_model_gets_residuals_and_importance() {
        let csv = simulated_engines_csv(&mut StdRng::seed_from_u64(4), 6).unwrap();
        let data = Dataset::load(csv.as_bytes(), &LoadOptions::default()).unwrap();
        let model = ml::train(&data, &quick(5, false), &mut |_: &str, _: u8| {}).unwrap();
        let charts = evaluation_charts(&model.card);
        let plots = evaluation_plots(&model.card);
        assert_eq!(names(&plots), ["residuals.svg", "feature_importance.svg"]);
        assert_eq!(charts.len(), plots.len());
        let document = parse(&charts[0]);
        assert!(!elements(&document, "circle").is_empty());
        assert!(
            charts[0].description.contains("cycles"),
            "{}",
            charts[0].description
        );
        parse(&charts[1]);
    }
}
