//! Charts rendered on the server as SVG with plotters, so they show on any phone, without
//! JavaScript. Black in plotters' output becomes `currentColor`, so axes and labels follow the
//! page's light or dark colour scheme. Sensor and prediction trends live here, with what all
//! charts share; model evaluation charts in `evaluation`.

mod evaluation;

use app::model::{Chart, Sensor};
use plotters::chart::MeshStyle;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use time::OffsetDateTime;

use ml::limits::Limit;
use ml::RiskLevel;

pub use evaluation::{
    confusion_matrix, evaluation_charts, evaluation_plots, feature_importance,
    precision_recall_curve, residuals, roc_curve,
};

/// Drawn at this size and scaled to the box: narrow enough that labels stay readable when a
/// phone shows the chart about 320 px wide.
const WIDTH: u32 = 480;
const HEIGHT: u32 = 220;
const MARGIN: u32 = 14;
/// Height of the clock-time axis under a trend.
const TIME_AXIS: u32 = 34;
/// Data: a blue that reads on light and dark backgrounds.
const LINE: RGBColor = RGBColor(37, 99, 235);
/// The amber and red of the warning and critical statuses; faded with `mix` where they sit
/// behind data.
const WARNING: RGBColor = RGBColor(217, 119, 6);
const CRITICAL: RGBColor = RGBColor(220, 38, 38);
/// Axis labels, large enough to read when a phone scales a chart to half its width.
const LABEL_FONT: u32 = 20;
/// The labels of a sensor's limits, inside the plot.
const LIMIT_FONT: u32 = 18;

/// One sensor's values over time: `points` are (ms since the epoch, value), oldest first, with
/// the active model's limits for it (where the machine's status would change), dashed in the
/// status' colour.
pub fn sensor_trend(sensor: &Sensor, points: &[(i64, f64)], limits: &[Limit]) -> Chart {
    let unit = unit_suffix(sensor);
    let title = format!("{}{unit}", sensor.label);
    let description = format!(
        "{}{}",
        describe(&sensor.label, &sensor.unit, points),
        describe_limits(limits, &sensor.unit)
    );
    let svg = sensor_svg(sensor, points, &unit, limits);
    Chart {
        title,
        description,
        svg,
    }
}

/// One sensor over a chart window: a point per bucket at its mean, the current model's limits,
/// and the window's extremes (the lowest and highest reading, not mean) in the description.
/// `buckets` are (bucket start, min, mean, max), oldest first.
pub fn sensor_window(
    sensor: &Sensor,
    window: &str,
    buckets: &[(i64, f64, f64, f64)],
    limits: &[Limit],
) -> Chart {
    let unit = unit_suffix(sensor);
    let means: Vec<(i64, f64)> = buckets
        .iter()
        .map(|(at, _, mean, _)| (*at, *mean))
        .collect();
    let low = buckets.iter().map(|b| b.1).fold(f64::INFINITY, f64::min);
    let high = buckets
        .iter()
        .map(|b| b.3)
        .fold(f64::NEG_INFINITY, f64::max);
    let description = if buckets.is_empty() {
        format!(
            "{}: no readings summarised over the last {window} yet.",
            sensor.label
        )
    } else {
        format!(
            "{} over the last {window}, the mean of each of {} intervals: lowest reading {low:.2}, highest {high:.2} {}.{}",
            sensor.label,
            buckets.len(),
            sensor.unit,
            describe_limits(limits, &sensor.unit)
        )
    };
    let svg = sensor_svg(sensor, &means, &unit, limits);
    Chart {
        title: format!("{}{unit}, last {window}", sensor.label),
        description,
        svg,
    }
}

/// " (Nm)" after a sensor's label, or nothing for a sensor without a unit.
fn unit_suffix(sensor: &Sensor) -> String {
    if sensor.unit.is_empty() {
        String::new()
    } else {
        format!(" ({})", sensor.unit)
    }
}

/// A sensor's chart as SVG; empty, and a warning in the log, when it cannot be drawn.
fn sensor_svg(sensor: &Sensor, points: &[(i64, f64)], unit: &str, limits: &[Limit]) -> String {
    render(points, unit, limits).unwrap_or_else(|e| {
        tracing::warn!(error = %e, sensor = %sensor.key, "chart rendering failed");
        String::new()
    })
}

/// The limits in words: " With the other inputs as they are now, the model says warning
/// above 58.2 Nm, critical above 63.0 Nm."
fn describe_limits(limits: &[Limit], unit: &str) -> String {
    if limits.is_empty() {
        return String::new();
    }
    let unit = if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    };
    let each: Vec<String> = limits
        .iter()
        .map(|limit| format!("{}{unit}", limit_label(limit)))
        .collect();
    format!(
        " With the other inputs as they are now, the model says {}.",
        each.join(", ")
    )
}

/// "critical below 1380".
fn limit_label(limit: &Limit) -> String {
    format!(
        "{} {} {}",
        limit.status.as_str(),
        if limit.worse_above { "above" } else { "below" },
        readable_number(limit.value)
    )
}

/// Enough digits to tell values apart at a sensor's usual scale.
fn readable_number(value: f64) -> String {
    match value.abs() {
        v if v >= 100.0 => format!("{value:.0}"),
        v if v >= 10.0 => format!("{value:.1}"),
        _ => format!("{value:.2}"),
    }
}

/// One prediction: (ms since the epoch, probability or remaining life, interval).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PredictionPoint {
    pub at: i64,
    pub value: f64,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

/// What the predictions are, with the model's status bands.
#[derive(Debug, Clone, PartialEq)]
pub enum PredictionScale {
    /// Failure probability; warning and critical from these probabilities up.
    Probability { warning: f64, critical: f64 },
    /// Remaining life; warning and critical from these values down.
    RemainingLife {
        warning: f64,
        critical: f64,
        unit: String,
    },
}

/// The model's predictions over time, over its warning and critical bands (and the
/// remaining-life interval, shaded).
pub fn prediction_history(points: &[PredictionPoint], scale: &PredictionScale) -> Chart {
    let (title, label, unit) = match scale {
        PredictionScale::Probability { .. } => {
            ("Failure probability", "Failure probability", String::new())
        }
        PredictionScale::RemainingLife { unit, .. } => {
            ("Remaining life", "Remaining life", unit.clone())
        }
    };
    let values: Vec<(i64, f64)> = points.iter().map(|p| (p.at, p.value)).collect();
    let bands = match scale {
        PredictionScale::Probability { warning, critical } => format!(
            " Warning from {:.2}, critical from {:.2}.",
            warning, critical
        ),
        PredictionScale::RemainingLife {
            warning,
            critical,
            unit,
        } => format!(" Warning below {warning:.0} {unit}, critical below {critical:.0} {unit}."),
    };
    let description = format!("{}{bands}", describe(label, &unit, &values));
    let svg = render_predictions(points, scale).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "prediction chart rendering failed");
        String::new()
    });
    Chart {
        title: if unit.is_empty() {
            title.to_string()
        } else {
            format!("{title} ({unit})")
        },
        description,
        svg,
    }
}

fn render_predictions(
    points: &[PredictionPoint],
    scale: &PredictionScale,
) -> Result<String, Box<dyn std::error::Error>> {
    let values: Vec<(i64, f64)> = points.iter().map(|p| (p.at, p.value)).collect();
    if values.is_empty() {
        return render(&values, "", &[]);
    }
    let (x_range, _) = ranges(&values);
    let top = points
        .iter()
        .map(|p| p.high.unwrap_or(p.value))
        .fold(0.0, f64::max);
    let (y_range, warning_band, critical_band, y_desc) = match scale {
        PredictionScale::Probability { warning, critical } => (
            0.0..1.0,
            (*warning, *critical),
            (*critical, 1.0),
            String::new(),
        ),
        PredictionScale::RemainingLife {
            warning,
            critical,
            unit,
        } => {
            let top = (top * 1.1).max(warning * 1.5);
            (
                0.0..top,
                (*critical, *warning),
                (0.0, *critical),
                unit.clone(),
            )
        }
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .margin(MARGIN)
            .x_label_area_size(TIME_AXIS)
            .y_label_area_size(76)
            .build_cartesian_2d(x_range.clone(), y_range)?;
        for ((low, high), color) in [(warning_band, WARNING), (critical_band, CRITICAL)] {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x_range.start, low), (x_range.end, high)],
                color.mix(0.14).filled(),
            )))?;
        }
        draw_mesh(&mut chart, &y_desc, 5)?;
        let interval: Vec<(f64, f64, f64)> = points
            .iter()
            .filter_map(|p| Some((p.at as f64, p.low?, p.high?)))
            .collect();
        if !interval.is_empty() {
            let outline: Vec<(f64, f64)> = interval
                .iter()
                .map(|(t, _, high)| (*t, *high))
                .chain(interval.iter().rev().map(|(t, low, _)| (*t, *low)))
                .collect();
            chart.draw_series(std::iter::once(Polygon::new(
                outline,
                LINE.mix(0.15).filled(),
            )))?;
        }
        chart.draw_series(LineSeries::new(
            points.iter().map(|p| (p.at as f64, p.value)),
            LINE.stroke_width(2),
        ))?;
        if points.len() == 1 {
            chart.draw_series(std::iter::once(Circle::new(
                (points[0].at as f64, points[0].value),
                4,
                LINE.filled(),
            )))?;
        }
        root.present()?;
    }
    Ok(follow_colour_scheme(&svg))
}

/// The chart in words, for screen readers.
fn describe(label: &str, unit: &str, points: &[(i64, f64)]) -> String {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return format!("{label}: no readings yet.");
    };
    let (low, high) = value_range(points);
    format!(
        "{label} over the last {} readings: from {:.2} to {:.2} {unit}, lowest {:.2}, highest {:.2}.",
        points.len(),
        first.1,
        last.1,
        low,
        high
    )
}

fn value_range(points: &[(i64, f64)]) -> (f64, f64) {
    points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), (_, v)| {
            (low.min(*v), high.max(*v))
        })
}

fn render(
    points: &[(i64, f64)],
    unit: &str,
    limits: &[Limit],
) -> Result<String, Box<dyn std::error::Error>> {
    if points.is_empty() {
        return Ok(follow_colour_scheme(&placeholder(
            "No readings yet",
            (WIDTH, HEIGHT),
        )?));
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        let (x_range, y_range) = ranges(points);
        let y_range = drawable(with_room_for_labels(y_range, limits));
        let mut chart = ChartBuilder::on(&root)
            .margin(MARGIN)
            .x_label_area_size(TIME_AXIS)
            .y_label_area_size(76)
            .build_cartesian_2d(x_range.clone(), y_range.clone())?;
        draw_mesh(
            &mut chart,
            unit.trim().trim_start_matches('(').trim_end_matches(')'),
            4,
        )?;
        let mut labelled: Vec<i32> = Vec::new();
        // A limit beyond what the axis can show is left to the text alternative.
        for limit in limits.iter().filter(|l| y_range.contains(&l.value)) {
            let colour = match limit.status {
                RiskLevel::Critical => CRITICAL,
                _ => WARNING,
            };
            chart.draw_series(DashedLineSeries::new(
                [(x_range.start, limit.value), (x_range.end, limit.value)],
                10,
                6,
                colour.stroke_width(2),
            ))?;
            // Just off the line on its worse side; a label that would touch one already drawn
            // goes to the other end of its line.
            let (left, y) = chart.backend_coord(&(x_range.start, limit.value));
            let (right, _) = chart.backend_coord(&(x_range.end, limit.value));
            let (y, vertical) = if limit.worse_above {
                (y - 3, VPos::Bottom)
            } else {
                (y + 3, VPos::Top)
            };
            let crowded = labelled
                .iter()
                .any(|other| (other - y).abs() < LIMIT_FONT as i32);
            let (x, horizontal) = if crowded {
                (right - 4, HPos::Right)
            } else {
                (left + 4, HPos::Left)
            };
            labelled.push(y);
            root.draw(&Text::new(
                limit_label(limit),
                (x, y),
                text_style(LIMIT_FONT, horizontal, vertical).color(&colour),
            ))?;
        }
        let on_axis = |v: f64| v.clamp(y_range.start, y_range.end);
        chart.draw_series(LineSeries::new(
            points.iter().map(|(t, v)| (*t as f64, on_axis(*v))),
            LINE.stroke_width(2),
        ))?;
        if points.len() == 1 {
            chart.draw_series(std::iter::once(Circle::new(
                (points[0].0 as f64, on_axis(points[0].1)),
                4,
                LINE.filled(),
            )))?;
        }
        root.present()?;
    }
    Ok(follow_colour_scheme(&svg))
}

/// The value range widened to every limit, with room for each limit's label on its worse side.
fn with_room_for_labels(values: std::ops::Range<f64>, limits: &[Limit]) -> std::ops::Range<f64> {
    let (low, high) = limits
        .iter()
        .fold((values.start, values.end), |(low, high), l| {
            (low.min(l.value), high.max(l.value))
        });
    // A label and its gap, as a share of the plot's height (the chart less its margins and
    // time axis).
    let room =
        (high - low) * f64::from(LIMIT_FONT + 8) / f64::from(HEIGHT - 2 * MARGIN - TIME_AXIS);
    limits.iter().fold(low..high, |range, l| {
        if l.worse_above {
            range.start..range.end.max(l.value + room)
        } else {
            range.start.min(l.value - room)..range.end
        }
    })
}

/// The most an axis reaches either side of zero. Values beyond it are drawn at its edge: tick
/// placement over an infinite or NaN range never ends, and a stored value may predate the
/// bounds ingest now checks.
const DRAWN_MAGNITUDE: f64 = 1e15;

/// A value axis plotters can always lay out: finite, within `DRAWN_MAGNITUDE`, not empty.
fn drawable(range: std::ops::Range<f64>) -> std::ops::Range<f64> {
    let bound = |v: f64, fallback: f64| {
        if v.is_nan() {
            fallback
        } else {
            v.clamp(-DRAWN_MAGNITUDE, DRAWN_MAGNITUDE)
        }
    };
    let low = bound(range.start, -1.0);
    let high = bound(range.end, 1.0);
    if low < high {
        low..high
    } else {
        let pad = low.abs().max(1.0) * 0.001;
        (low - pad)..(low + pad)
    }
}

/// A chart-sized SVG that says why there is nothing to draw.
fn placeholder(message: &str, size: (u32, u32)) -> Result<String, Box<dyn std::error::Error>> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.draw(&Text::new(
            message,
            (size.0 as i32 / 2, size.1 as i32 / 2),
            text_style(18, HPos::Center, VPos::Center),
        ))?;
        root.present()?;
    }
    Ok(svg)
}

type TimeChart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Grid, clock-time x labels and the y unit, alike on every chart.
fn draw_mesh(
    chart: &mut TimeChart<'_, '_>,
    y_desc: &str,
    y_labels: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    styled_mesh(&mut chart.configure_mesh())
        .x_labels(4)
        .y_labels(y_labels)
        .x_label_formatter(&|ms| clock_time(*ms))
        .y_desc(y_desc)
        .draw()?;
    Ok(())
}

/// The grid and label style every chart shares.
fn styled_mesh<'m, 'a, 'b, X: Ranged, Y: Ranged, DB: DrawingBackend>(
    mesh: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
) -> &'m mut MeshStyle<'a, 'b, X, Y, DB> {
    mesh.light_line_style(BLACK.mix(0.06))
        .bold_line_style(BLACK.mix(0.12))
        .label_style(("sans-serif", LABEL_FONT))
}

/// Text in the foreground colour (black, so it follows the colour scheme), anchored as given.
fn text_style(size: u32, horizontal: HPos, vertical: VPos) -> TextStyle<'static> {
    ("sans-serif", size)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(horizontal, vertical))
}

/// Black becomes `currentColor`, so axes and labels follow the page's colour scheme; the
/// chart scales to its box.
fn follow_colour_scheme(svg: &str) -> String {
    svg.replace("#000000", "currentColor").replacen(
        "<svg ",
        "<svg preserveAspectRatio=\"xMidYMid meet\" ",
        1,
    )
}

/// Axis ranges with a margin, wide enough for a single point or a flat line.
fn ranges(points: &[(i64, f64)]) -> (std::ops::Range<f64>, std::ops::Range<f64>) {
    let first = points.first().map(|p| p.0).unwrap_or_default() as f64;
    let last = points.last().map(|p| p.0).unwrap_or_default() as f64;
    let (x_start, x_end) = if last > first {
        (first, last)
    } else {
        (first - 30_000.0, first + 30_000.0)
    };
    let (low, high) = value_range(points);
    let pad = ((high - low) * 0.1).max(high.abs().max(1.0) * 0.001);
    (x_start..x_end, (low - pad)..(high + pad))
}

/// `14:05:09` (UTC) for an axis label.
fn clock_time(ms: f64) -> String {
    OffsetDateTime::from_unix_timestamp((ms / 1000.0) as i64)
        .map(|t| format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sensor() -> Sensor {
        Sensor::new("torque", "Torque <max>", "Nm")
    }

    fn assert_svg(chart: &Chart) {
        assert!(
            chart.svg.starts_with("<svg"),
            "{}",
            &chart.svg[..chart.svg.len().min(80)]
        );
        assert!(chart.svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn an_empty_series_renders_a_placeholder() {
        let chart = sensor_trend(&sensor(), &[], &[]);
        assert_svg(&chart);
        assert!(chart.svg.contains("No readings yet"));
        assert!(chart.description.contains("no readings"));
    }

    #[test]
    fn extreme_finite_values_and_limits_still_render_promptly() {
        // 1e308 and -1e308 once made the axis infinite and its tick loop never end: render in a
        // thread, so a regression fails here instead of hanging the suite.
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let points = [(1_795_000_000_000, 1e308), (1_795_000_001_000, -1e308)];
            let limits = [Limit {
                value: f64::MAX,
                status: RiskLevel::Critical,
                worse_above: true,
            }];
            let _ = done.send(sensor_trend(&sensor(), &points, &limits));
        });
        let chart = finished
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("the chart renders in time");
        assert_svg(&chart);
    }

    #[test]
    fn a_single_point_and_a_long_series_render() {
        assert_svg(&sensor_trend(&sensor(), &[(1_795_000_000_000, 40.0)], &[]));
        let many: Vec<(i64, f64)> = (0..5000)
            .map(|i| {
                (
                    1_795_000_000_000 + i * 1000,
                    (i as f64 / 50.0).sin() * 10.0 + 40.0,
                )
            })
            .collect();
        let chart = sensor_trend(&sensor(), &many, &[]);
        assert_svg(&chart);
        assert!(chart.svg.contains("<polyline"));
        assert!(chart.description.contains("5000 readings"));
    }

    #[test]
    fn chart_text_is_escaped_and_follows_the_colour_scheme() {
        let mut sensor = sensor();
        sensor.unit = "<i>".into();
        let chart = sensor_trend(
            &sensor,
            &[(1_795_000_000_000, 40.0), (1_795_000_060_000, 41.0)],
            &[],
        );
        assert!(!chart.svg.contains("<i>"));
        assert!(chart.svg.contains("&lt;i&gt;"));
        assert!(!chart.svg.contains("#000000"));
        assert!(chart.svg.contains("currentColor"));
    }

    #[test]
    fn a_sensor_trend_draws_the_model_limits_in_their_colours_and_words() {
        let speed = Sensor::new("rotational_speed", "Rotational speed", "rpm");
        let points: Vec<(i64, f64)> = (0..50)
            .map(|i| (1_795_000_000_000 + i * 1000, 1500.0 + (i % 7) as f64))
            .collect();
        let limits = [
            Limit {
                value: 1420.4,
                status: RiskLevel::Warning,
                worse_above: false,
            },
            Limit {
                value: 1380.2,
                status: RiskLevel::Critical,
                worse_above: false,
            },
        ];
        let chart = sensor_trend(&speed, &points, &limits);
        assert_svg(&chart);
        let svg = chart.svg.to_ascii_lowercase();
        // Each limit's dashes (several short segments) in its status' colour.
        for colour in ["#d97706", "#dc2626"] {
            let dashes = svg.matches(&format!("stroke=\"{colour}\"")).count();
            assert!(dashes > 5, "{colour}: {dashes}");
        }
        assert!(chart.svg.contains("critical below 1380"), "{}", chart.svg);
        assert!(chart.svg.contains("warning below 1420"));
        assert!(
            chart.description.ends_with(
                "With the other inputs as they are now, the model says warning below 1420 rpm, \
                 critical below 1380 rpm."
            ),
            "{}",
            chart.description
        );
        // A single reading with limits far from it still draws both, in range.
        let single = sensor_trend(&speed, &points[..1], &limits);
        assert_svg(&single);
        assert!(single.svg.contains("critical below 1380"));
        // Without limits: no dashes, and the description says nothing of them.
        let plain = sensor_trend(&speed, &points, &[]);
        assert!(!plain.svg.to_ascii_lowercase().contains("#dc2626"));
        assert!(!plain.description.contains("model says"));
    }

    #[test]
    fn prediction_history_renders_empty_single_and_long_with_bands() {
        let scale = PredictionScale::Probability {
            warning: 0.4,
            critical: 0.8,
        };
        assert_svg(&prediction_history(&[], &scale));
        let point = |i: i64| PredictionPoint {
            at: 1_795_000_000_000 + i * 1000,
            value: (i as f64 / 300.0).min(1.0),
            low: None,
            high: None,
        };
        let single = prediction_history(&[point(0)], &scale);
        assert_svg(&single);
        assert!(single.svg.contains("<circle"));
        let long: Vec<PredictionPoint> = (0..5000).map(point).collect();
        let chart = prediction_history(&long, &scale);
        assert_svg(&chart);
        assert!(chart.svg.contains("<polyline"));
        // Two bands behind the line.
        assert!(
            chart.svg.matches("<rect").count() >= 2,
            "{}",
            chart.svg.len()
        );
        assert!(
            chart.description.contains("critical from 0.80"),
            "{}",
            chart.description
        );
    }

    #[test]
    fn remaining_life_history_shades_its_interval() {
        let scale = PredictionScale::RemainingLife {
            warning: 50.0,
            critical: 20.0,
            unit: "cycles".into(),
        };
        let points: Vec<PredictionPoint> = (0..100)
            .map(|i| PredictionPoint {
                at: 1_795_000_000_000 + i * 1000,
                value: 120.0 - i as f64,
                low: Some(100.0 - i as f64),
                high: Some(140.0 - i as f64),
            })
            .collect();
        let chart = prediction_history(&points, &scale);
        assert_svg(&chart);
        assert!(chart.svg.contains("<polygon"));
        assert_eq!(chart.title, "Remaining life (cycles)");
        assert!(
            chart.description.contains("critical below 20 cycles"),
            "{}",
            chart.description
        );
    }
}
