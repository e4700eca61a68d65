//! Wire types: what the pages receive from the server, in the users' words.
//!
//! They derive serde so they cross the server-function boundary; the server builds them from its
//! own storage rows, which never reach the browser directly.

mod alarms;
mod fleet;
mod training;
mod versions;

pub use alarms::*;
pub use fleet::*;
pub use training::*;
pub use versions::*;

use serde::{Deserialize, Serialize};
use std::fmt;

/// How a machine is doing, as the fleet page ranks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The model sees no risk worth attention.
    Healthy,
    /// Risk above the model's warning band.
    Warning,
    /// Risk above the model's critical band: act now.
    Critical,
    /// No prediction yet (no active model, or no reading scored).
    Unknown,
    /// A training run for this machine is under way.
    Training,
}

impl Status {
    /// All statuses, most urgent first.
    pub const ALL: [Status; 5] = [
        Status::Critical,
        Status::Warning,
        Status::Training,
        Status::Healthy,
        Status::Unknown,
    ];

    /// The stored and serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Healthy => "healthy",
            Status::Warning => "warning",
            Status::Critical => "critical",
            Status::Unknown => "unknown",
            Status::Training => "training",
        }
    }

    /// The status with this name, if there is one.
    pub fn from_name(name: &str) -> Option<Status> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == name)
    }

    /// Parses a stored name; anything unrecognised reads as `Unknown`.
    pub fn parse(name: &str) -> Status {
        Status::from_name(name).unwrap_or(Status::Unknown)
    }

    /// Higher is more urgent; the fleet page sorts on it before probability.
    pub fn urgency(self) -> u8 {
        match self {
            Status::Critical => 4,
            Status::Warning => 3,
            Status::Training => 2,
            Status::Healthy => 1,
            Status::Unknown => 0,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One sensor of a machine's schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sensor {
    /// URL-safe key used in readings (`torque`).
    pub key: String,
    /// Human label (`Torque`).
    pub label: String,
    /// Unit symbol (`Nm`), empty when dimensionless.
    pub unit: String,
    /// The lowest value the sensor can physically read, when declared; readings below it are
    /// refused, naming the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// The highest value the sensor can physically read, when declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

impl Sensor {
    /// A sensor without a declared range.
    pub fn new(key: &str, label: &str, unit: &str) -> Sensor {
        Sensor {
            key: key.into(),
            label: label.into(),
            unit: unit.into(),
            min: None,
            max: None,
        }
    }
}

/// A sensor's latest value, ready to show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SensorValue {
    pub label: String,
    pub unit: String,
    pub value: f64,
}

/// A machine as a fleet-page card shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineCard {
    /// URL-safe name.
    pub name: String,
    pub display_name: String,
    /// Built-in profile the schema came from (`ai4i2020`, `turbofan`, `custom`).
    pub profile: String,
    /// Where it stands (a hall, a line, a site), when its registration said.
    pub place: Option<String>,
    pub status: Status,
    /// Latest predicted failure probability, when a model has scored a reading.
    pub failure_probability: Option<f64>,
    /// Latest predicted remaining life, for run-to-failure models.
    pub remaining_life: Option<RemainingLife>,
    /// The failure mode the model finds most likely, with its probability given a failure.
    pub likely_failure: Option<LikelyFailure>,
    /// Time of the latest reading, milliseconds since the Unix epoch (UTC).
    pub last_reading_at: Option<i64>,
    /// Latest value of each sensor, in schema order.
    pub latest: Vec<SensorValue>,
    /// The severity of its alarm that is not cleared (`warning`, `critical`), if it has one.
    pub alarm: Option<String>,
}

/// Time left until a breakdown, with its 90 % interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemainingLife {
    pub value: f64,
    pub low: Option<f64>,
    pub high: Option<f64>,
    /// `cycles` or `hours`.
    pub unit: String,
}

impl RemainingLife {
    /// "87 cycles left (66–109)".
    pub fn describe(&self) -> String {
        match (self.low, self.high) {
            (Some(low), Some(high)) => format!(
                "{:.0} {} left ({:.0}–{:.0})",
                self.value, self.unit, low, high
            ),
            _ => format!("{:.0} {} left", self.value, self.unit),
        }
    }
}

/// A failure mode and its probability given a failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LikelyFailure {
    /// Short code, such as `HDF`.
    pub mode: String,
    pub probability: f64,
}

impl LikelyFailure {
    /// "heat dissipation (HDF) 0.82".
    pub fn describe(&self) -> String {
        let name = match self.mode.as_str() {
            "TWF" => "tool wear",
            "HDF" => "heat dissipation",
            "PWF" => "power",
            "OSF" => "overstrain",
            "RNF" => "random",
            _ => "",
        };
        if name.is_empty() {
            format!("{} {:.2}", self.mode, self.probability)
        } else {
            format!("{name} ({}) {:.2}", self.mode, self.probability)
        }
    }
}

/// An input that pushed the latest risk up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskDriver {
    pub input: String,
    /// "+3.1 percentage points" or "−12 cycles".
    pub effect: String,
}

/// A chart rendered on the server as SVG.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    pub title: String,
    /// Text alternative for screen readers and failed images.
    pub description: String,
    /// A complete `<svg>` document; every text in it is escaped by the renderer.
    pub svg: String,
}

/// Everything the machine page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineDetail {
    pub card: MachineCard,
    /// Free-form attributes such as the AI4I quality variant, in a stable order.
    pub attributes: Vec<(String, String)>,
    /// Whether the machine's readings are scored live.
    pub monitoring: bool,
    /// Readings stored for this machine.
    pub reading_count: i64,
    /// One trend chart per sensor over the recent window.
    pub charts: Vec<Chart>,
    /// The model's predictions over the recent window, with its status bands.
    pub prediction_chart: Option<Chart>,
    /// The inputs that pushed the latest risk most.
    pub drivers: Vec<RiskDriver>,
    /// The active model version, such as `ai4i2020 v3`.
    pub model_version: Option<String>,
    /// The active version's training run in MLflow.
    pub model_version_url: Option<String>,
    /// The machine's Grafana dashboard.
    pub grafana_url: Option<String>,
    /// The span the sensor charts cover; `None`: the latest readings, one point each.
    pub window: Option<ChartWindow>,
    /// Its newest alarms, those not cleared first.
    pub alarms: Vec<AlarmView>,
    /// What engineers did to it, newest first.
    pub maintenance: Vec<MaintenanceEntry>,
    /// Now, as the maintenance form's time field takes it (`2026-12-01T14:30`, UTC).
    pub now_minute_utc: String,
    pub generated_at: i64,
}

/// A span of history the machine page charts, drawn from per-bucket summaries so a year reads
/// as few points as an hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChartWindow {
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl ChartWindow {
    pub const ALL: [ChartWindow; 5] = [
        ChartWindow::Hour,
        ChartWindow::Day,
        ChartWindow::Week,
        ChartWindow::Month,
        ChartWindow::Year,
    ];

    /// As the page's `?window=` names it.
    pub fn as_str(self) -> &'static str {
        match self {
            ChartWindow::Hour => "1h",
            ChartWindow::Day => "24h",
            ChartWindow::Week => "7d",
            ChartWindow::Month => "30d",
            ChartWindow::Year => "1y",
        }
    }

    pub fn from_name(name: &str) -> Option<ChartWindow> {
        ChartWindow::ALL.into_iter().find(|w| w.as_str() == name)
    }

    /// How far back it reaches, in milliseconds.
    pub fn span_ms(self) -> i64 {
        const HOUR: i64 = 3_600_000;
        match self {
            ChartWindow::Hour => HOUR,
            ChartWindow::Day => 24 * HOUR,
            ChartWindow::Week => 7 * 24 * HOUR,
            ChartWindow::Month => 30 * 24 * HOUR,
            ChartWindow::Year => 365 * 24 * HOUR,
        }
    }
}

/// "12 s ago", "5 min ago", "3 h ago", "2 d ago": how long before `now` a time was.
pub fn time_ago(then_ms: i64, now_ms: i64) -> String {
    let seconds = (now_ms - then_ms).max(0) / 1000;
    match seconds {
        0..=59 => format!("{seconds} s ago"),
        60..=3599 => format!("{} min ago", seconds / 60),
        3600..=86_399 => format!("{} h ago", seconds / 3600),
        _ => format!("{} d ago", seconds / 86_400),
    }
}

/// A count with thousands separated: 10,000.
pub fn grouped(count: i64) -> String {
    let digits = count.unsigned_abs().to_string();
    let mut text = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            text.push(',');
        }
        text.push(digit);
    }
    if count < 0 {
        format!("-{text}")
    } else {
        text
    }
}

/// A probability as a percentage: "0.4 %" below one percent, whole percents above.
pub fn percent(probability: f64) -> String {
    let value = probability * 100.0;
    if value > 0.0 && value < 1.0 {
        format!("{value:.1} %")
    } else {
        format!("{value:.0} %")
    }
}

/// A sensor value with as many decimals as its magnitude deserves.
pub fn format_value(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 1000.0 {
        format!("{value:.0}")
    } else if magnitude >= 100.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(10_000), "10,000");
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(-1_000), "-1,000");
    }

    #[test]
    fn time_ago_picks_the_largest_whole_unit() {
        assert_eq!(time_ago(0, 12_500), "12 s ago");
        assert_eq!(time_ago(0, 125_000), "2 min ago");
        assert_eq!(time_ago(0, 3 * 3_600_000 + 5), "3 h ago");
        assert_eq!(time_ago(0, 49 * 3_600_000), "2 d ago");
    }

    #[test]
    fn a_time_in_the_future_reads_as_now() {
        assert_eq!(time_ago(10_000, 0), "0 s ago");
    }

    #[test]
    fn status_names_round_trip_and_unknown_names_read_as_unknown() {
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), status);
        }
        assert_eq!(Status::parse("exploded"), Status::Unknown);
    }

    #[test]
    fn small_probabilities_keep_a_decimal() {
        assert_eq!(percent(0.004), "0.4 %");
        assert_eq!(percent(0.0), "0 %");
        assert_eq!(percent(0.826), "83 %");
    }

    #[test]
    fn remaining_life_and_likely_failure_read_as_sentences() {
        let life = RemainingLife {
            value: 87.4,
            low: Some(66.0),
            high: Some(109.2),
            unit: "cycles".into(),
        };
        assert_eq!(life.describe(), "87 cycles left (66–109)");
        let likely = LikelyFailure {
            mode: "HDF".into(),
            probability: 0.82,
        };
        assert_eq!(likely.describe(), "heat dissipation (HDF) 0.82");
    }

    #[test]
    fn values_keep_decimals_that_matter() {
        assert_eq!(format_value(1551.0), "1551");
        assert_eq!(format_value(298.14), "298.1");
        assert_eq!(format_value(42.817), "42.82");
    }
}

/// What a signed-in user may do: viewers look, engineers also act on what they see, admins
/// also train and promote models and manage users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    Viewer,
    Engineer,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Engineer, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Engineer => "engineer",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }
}

/// Who is looking at a page: anyone, or a signed-in user with their role and the token their
/// forms carry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Viewer {
    pub signed_in: Option<SignedIn>,
}

/// A signed-in user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedIn {
    pub name: String,
    pub role: Role,
    /// Every form of the session carries it.
    pub csrf_token: String,
}

impl Viewer {
    pub fn is_admin(&self) -> bool {
        self.signed_in
            .as_ref()
            .is_some_and(|user| user.role == Role::Admin)
    }

    /// The token for admin forms: present for admins only, so pages show those forms to them
    /// alone.
    pub fn admin_csrf(&self) -> Option<String> {
        self.signed_in
            .as_ref()
            .filter(|user| user.role == Role::Admin)
            .map(|user| user.csrf_token.clone())
    }
}

/// A user as the users page lists them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserEntry {
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    /// When and by whom the user was added, and last changed.
    pub created: String,
    pub changed: String,
}

/// `1 min 05 s`-style duration between two millisecond timestamps.
pub fn duration(from_ms: i64, to_ms: i64) -> String {
    let seconds = ((to_ms - from_ms).max(0) + 500) / 1000;
    match seconds {
        0..=59 => format!("{seconds} s"),
        60..=3599 => format!("{} min {:02} s", seconds / 60, seconds % 60),
        _ => format!("{} h {:02} min", seconds / 3600, seconds % 3600 / 60),
    }
}
