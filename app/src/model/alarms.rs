//! Alarms as the pages show them.

use serde::{Deserialize, Serialize};

/// An alarm: a machine's episode at warning or critical, and what engineers did about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmView {
    pub id: i64,
    pub machine: String,
    pub machine_display_name: String,
    /// `open`, `acknowledged` or `cleared`.
    pub state: String,
    /// `warning` or `critical`: the highest the episode reached.
    pub severity: String,
    /// "12 min ago", from the reading that raised it.
    pub raised: String,
    /// When it went from warning to critical, if it did.
    pub escalated: Option<String>,
    /// Its riskiest prediction, in words: "83 % failure risk", "41 cycles left".
    pub peak: String,
    pub failure_mode: Option<String>,
    /// The inputs that drove the riskiest prediction, in words ("torque +21.0 percentage points").
    pub drivers: Vec<String>,
    pub model_version_id: i64,
    /// Who acknowledged it, when and with what note.
    pub acknowledged: Option<AlarmAction>,
    /// Who cleared it (none: the machine recovered), when and with what note.
    pub cleared: Option<AlarmAction>,
}

/// What an engineer did to a machine, as its page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaintenanceEntry {
    /// "Repair", "Part replaced", "Inspection", "False alarm".
    pub kind: String,
    pub failure_mode: Option<String>,
    /// "3 h ago".
    pub when: String,
    pub note: Option<String>,
    pub by: String,
    pub alarm_id: Option<i64>,
}

/// The kinds of maintenance, as the form offers them: value and label.
pub const MAINTENANCE_KINDS: [(&str, &str); 4] = [
    ("inspection", "Inspection"),
    ("part_replaced", "Part replaced"),
    ("repair", "Repair"),
    ("false_alarm", "False alarm"),
];

/// An engineer's action on an alarm, or the machine's recovery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmAction {
    /// `None` when the server did it (the machine stayed healthy long enough).
    pub by: Option<String>,
    pub when: String,
    pub note: Option<String>,
}

/// Which alarms to list: a state (`None`: all) and a machine.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlarmQuery {
    pub state: Option<String>,
    pub machine: Option<String>,
}

/// The alarms page: the alarms that match, the counts of those not cleared, and the token
/// for engineers' forms (none for viewers and visitors).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmsPage {
    pub alarms: Vec<AlarmView>,
    pub open: i64,
    pub acknowledged: i64,
    pub csrf: Option<String>,
    /// The healthy time that clears an alarm by itself, in words ("10 min").
    pub clears_after: String,
    /// What failed in announcing alarms through the webhook, if anything did.
    pub webhook_trouble: Option<String>,
}
