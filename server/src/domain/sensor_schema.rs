//! A machine's ordered sensor columns.

use std::collections::HashSet;

use app::model::Sensor;

/// Column names a reading uses for its own fields, so no sensor may take them.
pub const RESERVED_COLUMNS: [&str; 5] = [
    "timestamp",
    "seq",
    "failure",
    "failure_mode",
    "time_to_failure",
];

/// An ordered, non-empty list of sensors with unique URL-safe keys.
#[derive(Debug, Clone, PartialEq)]
pub struct SensorSchema(Vec<Sensor>);

impl SensorSchema {
    pub fn parse(sensors: Vec<Sensor>) -> Result<SensorSchema, String> {
        if sensors.is_empty() {
            return Err("a machine needs at least one sensor".to_string());
        }
        if sensors.len() > 256 {
            return Err(format!("at most 256 sensors, got {}", sensors.len()));
        }
        let mut seen = HashSet::new();
        for (index, sensor) in sensors.iter().enumerate() {
            let key = sensor.key.as_str();
            let valid = !key.is_empty()
                && key.len() <= 64
                && key.starts_with(|c: char| c.is_ascii_lowercase())
                && key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !valid {
                return Err(format!(
                    "sensors[{index}].key {key:?}: use 1 to 64 lowercase letters, digits and '_', starting with a letter"
                ));
            }
            if RESERVED_COLUMNS.contains(&key) {
                return Err(format!(
                    "sensors[{index}].key {key:?} is reserved for readings"
                ));
            }
            if !seen.insert(key) {
                return Err(format!("sensors[{index}].key {key:?} appears twice"));
            }
            if sensor.label.trim().is_empty() || sensor.label.len() > 80 {
                return Err(format!("sensors[{index}].label must be 1 to 80 characters"));
            }
            if sensor.unit.len() > 16 {
                return Err(format!(
                    "sensors[{index}].unit must be at most 16 characters"
                ));
            }
        }
        Ok(SensorSchema(sensors))
    }

    pub fn sensors(&self) -> &[Sensor] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Position of a sensor key in the schema.
    pub fn index_of(&self, key: &str) -> Option<usize> {
        self.0.iter().position(|sensor| sensor.key == key)
    }

    /// The sensor keys, in order, for messages.
    pub fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|sensor| sensor.key.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sensor(key: &str) -> Sensor {
        Sensor {
            key: key.into(),
            label: key.into(),
            unit: String::new(),
        }
    }

    #[test]
    fn unique_snake_case_keys_make_a_schema() {
        let schema = SensorSchema::parse(vec![sensor("torque"), sensor("tool_wear")]).unwrap();
        assert_eq!(schema.index_of("tool_wear"), Some(1));
    }

    #[test]
    fn duplicate_reserved_or_malformed_keys_are_named_in_the_error() {
        let twice = SensorSchema::parse(vec![sensor("a"), sensor("a")]).unwrap_err();
        assert!(
            twice.contains("sensors[1].key \"a\" appears twice"),
            "{twice}"
        );
        let reserved = SensorSchema::parse(vec![sensor("timestamp")]).unwrap_err();
        assert!(reserved.contains("reserved"), "{reserved}");
        let malformed = SensorSchema::parse(vec![sensor("Torque [Nm]")]).unwrap_err();
        assert!(malformed.contains("sensors[0].key"), "{malformed}");
        assert!(SensorSchema::parse(vec![]).is_err());
    }
}
