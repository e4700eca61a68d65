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

/// The largest magnitude any sensor value may have, declared range or not: no physical
/// measurement comes near it, and every sum or product a recipe or chart makes of such values
/// stays finite.
pub const MAX_SENSOR_MAGNITUDE: f64 = 1e12;

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
            for (field, bound) in [("min", sensor.min), ("max", sensor.max)] {
                if bound.is_some_and(|b| !b.is_finite() || b.abs() > MAX_SENSOR_MAGNITUDE) {
                    return Err(format!(
                        "sensors[{index}].{field} must be a number of at most \
                         {MAX_SENSOR_MAGNITUDE:e} in magnitude"
                    ));
                }
            }
            if let (Some(min), Some(max)) = (sensor.min, sensor.max) {
                if min >= max {
                    return Err(format!(
                        "sensors[{index}]: min ({min}) must be below max ({max})"
                    ));
                }
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

    /// A value for the sensor at `index`, or why no such sensor could read it: not finite,
    /// beyond [`MAX_SENSOR_MAGNITUDE`], or outside the sensor's declared range.
    pub fn check_value(&self, index: usize, value: f64) -> Result<f64, String> {
        let sensor = &self.0[index];
        if !value.is_finite() {
            return Err(format!("expected a finite number, got {value}"));
        }
        if value.abs() > MAX_SENSOR_MAGNITUDE {
            return Err(format!(
                "{value:e} is beyond any physical reading (at most {MAX_SENSOR_MAGNITUDE:e} \
                 in magnitude)"
            ));
        }
        let below = sensor.min.is_some_and(|min| value < min);
        let above = sensor.max.is_some_and(|max| value > max);
        if below || above {
            let unit = if sensor.unit.is_empty() {
                String::new()
            } else {
                format!(" {}", sensor.unit)
            };
            let bound = |b: Option<f64>| b.map_or("any".to_string(), |b| b.to_string());
            return Err(format!(
                "{value} is outside this sensor's range, {} to {}{unit}",
                bound(sensor.min),
                bound(sensor.max)
            ));
        }
        Ok(value)
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
        Sensor::new(key, key, "")
    }

    #[test]
    fn unique_snake_case_keys_make_a_schema() {
        let schema = SensorSchema::parse(vec![sensor("torque"), sensor("tool_wear")]).unwrap();
        assert_eq!(schema.index_of("tool_wear"), Some(1));
    }

    #[test]
    fn values_beyond_the_declared_range_or_physical_sense_are_refused_with_the_range() {
        let torque = Sensor {
            min: Some(0.0),
            max: Some(1000.0),
            ..Sensor::new("torque", "Torque", "Nm")
        };
        let schema = SensorSchema::parse(vec![torque, sensor("counter")]).unwrap();
        assert_eq!(schema.check_value(0, 42.8), Ok(42.8));
        let above = schema.check_value(0, 1e308).unwrap_err();
        assert!(above.contains("beyond any physical reading"), "{above}");
        let below = schema.check_value(0, -3.0).unwrap_err();
        assert!(below.contains("range, 0 to 1000 Nm"), "{below}");
        // Without a declared range, only physical sense bounds a value.
        assert_eq!(schema.check_value(1, -5e11), Ok(-5e11));
        assert!(schema.check_value(1, -1e308).is_err());
        assert!(schema.check_value(1, f64::NAN).is_err());
    }

    #[test]
    fn a_declared_range_must_be_finite_and_ordered() {
        let reversed = Sensor {
            min: Some(10.0),
            max: Some(1.0),
            ..sensor("x")
        };
        let error = SensorSchema::parse(vec![reversed]).unwrap_err();
        assert!(
            error.contains("sensors[0]: min (10) must be below max (1)"),
            "{error}"
        );
        let huge = Sensor {
            max: Some(1e300),
            ..sensor("x")
        };
        let error = SensorSchema::parse(vec![huge]).unwrap_err();
        assert!(error.contains("sensors[0].max"), "{error}");
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
