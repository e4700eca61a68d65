//! Built-in machine profiles: the sensor schemas icantkube knows by name.

use app::model::Sensor;
use rand::Rng;

use crate::domain::SensorSchema;

/// A profile a machine can be created from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Milling process of the AI4I 2020 data set (Matzka 2020).
    Ai4i2020,
    /// Run-to-failure turbofan engine, sensors as in NASA C-MAPSS.
    Turbofan,
}

impl Profile {
    pub const ALL: [Profile; 2] = [Profile::Ai4i2020, Profile::Turbofan];

    pub fn name(self) -> &'static str {
        match self {
            Profile::Ai4i2020 => "ai4i2020",
            Profile::Turbofan => "turbofan",
        }
    }

    pub fn from_name(name: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The profile's sensors, in the order readings list them.
    pub fn schema(self) -> SensorSchema {
        let sensors = match self {
            Profile::Ai4i2020 => AI4I_SENSORS
                .iter()
                .map(|(key, label, unit, (min, max))| Sensor {
                    min: Some(*min),
                    max: Some(*max),
                    ..Sensor::new(key, label, unit)
                })
                .collect(),
            Profile::Turbofan => TURBOFAN_SENSORS
                .iter()
                .map(|(key, label, unit)| Sensor::new(key, label, unit))
                .collect(),
        };
        SensorSchema::parse(sensors).expect("built-in schemas are valid")
    }
}

/// AI4I 2020 product quality variant: how fast the tool wears and how much strain it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Low,
    Medium,
    High,
}

impl Variant {
    pub fn letter(self) -> &'static str {
        match self {
            Variant::Low => "L",
            Variant::Medium => "M",
            Variant::High => "H",
        }
    }

    pub fn from_letter(letter: &str) -> Option<Variant> {
        match letter {
            "L" => Some(Variant::Low),
            "M" => Some(Variant::Medium),
            "H" => Some(Variant::High),
            _ => None,
        }
    }

    /// Minutes of tool wear one process adds.
    pub fn wear_per_process(self) -> f64 {
        match self {
            Variant::Low => 2.0,
            Variant::Medium => 3.0,
            Variant::High => 5.0,
        }
    }

    /// Tool wear × torque (min·Nm) above which the tool is overstrained.
    pub fn overstrain_limit(self) -> f64 {
        match self {
            Variant::Low => 11_000.0,
            Variant::Medium => 12_000.0,
            Variant::High => 13_000.0,
        }
    }

    /// Draws a variant with the data set's mix (60 % L, 30 % M, 10 % H).
    pub fn draw(rng: &mut impl Rng) -> Variant {
        match rng.random::<f64>() {
            x if x < 0.6 => Variant::Low,
            x if x < 0.9 => Variant::Medium,
            _ => Variant::High,
        }
    }
}

/// AI4I 2020: the five process measurements (the quality variant is a machine attribute), each
/// with the range a milling machine's sensor can physically read: wide around the data set's
/// values (air 295–305 K, process 305–314 K, 1,168–2,886 rpm, 3.8–76.6 Nm, 0–253 min), so a
/// real reading always fits and a broken or hostile one does not.
type DeclaredSensor = (&'static str, &'static str, &'static str, (f64, f64));
const AI4I_SENSORS: [DeclaredSensor; 5] = [
    ("air_temperature", "Air temperature", "K", (200.0, 400.0)),
    (
        "process_temperature",
        "Process temperature",
        "K",
        (200.0, 500.0),
    ),
    (
        "rotational_speed",
        "Rotational speed",
        "rpm",
        (0.0, 20_000.0),
    ),
    ("torque", "Torque", "Nm", (0.0, 1_000.0)),
    ("tool_wear", "Tool wear", "min", (0.0, 10_000.0)),
];

/// The C-MAPSS sensors that change as an engine wears (the other seven are constant in FD001).
pub const TURBOFAN_SENSORS: [(&str, &str, &str); 14] = [
    ("t24", "LPC outlet temperature", "°R"),
    ("t30", "HPC outlet temperature", "°R"),
    ("t50", "LPT outlet temperature", "°R"),
    ("p30", "HPC outlet pressure", "psia"),
    ("nf", "Fan speed", "rpm"),
    ("nc", "Core speed", "rpm"),
    ("ps30", "HPC static pressure", "psia"),
    ("phi", "Fuel flow ratio", "pps/psi"),
    ("nrf", "Corrected fan speed", "rpm"),
    ("nrc", "Corrected core speed", "rpm"),
    ("bpr", "Bypass ratio", ""),
    ("htbleed", "Bleed enthalpy", ""),
    ("w31", "HPT coolant bleed", "lbm/s"),
    ("w32", "LPT coolant bleed", "lbm/s"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_has_a_valid_schema_and_round_trips_its_name() {
        for profile in Profile::ALL {
            assert!(!profile.schema().is_empty());
            assert_eq!(Profile::from_name(profile.name()), Some(profile));
        }
        assert_eq!(Profile::from_name("toaster"), None);
    }
}
