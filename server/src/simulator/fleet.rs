//! Virtual machines: what the simulator and demo mode run.

use rand::Rng;
use serde_json::{json, Map, Value};

use super::ai4i::{MillingMachine, Variant};
use super::turbofan::Engine;
use crate::domain::profiles::Profile;
use crate::domain::{Labels, NewReading};

/// A simulated machine of one of the built-in profiles.
#[derive(Debug, Clone)]
pub enum VirtualMachine {
    Milling(MillingMachine),
    Turbofan(Engine),
}

/// One simulated reading, values in the profile's schema order.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulatedReading {
    pub values: Vec<f64>,
    pub labels: Labels,
}

impl SimulatedReading {
    /// As a validated reading taken at `recorded_at`.
    pub fn into_reading(self, recorded_at: i64, client_seq: Option<String>) -> NewReading {
        NewReading {
            recorded_at,
            client_seq,
            values: self.values,
            labels: self.labels,
        }
    }

    /// As the ingest API's JSON object.
    pub fn to_json(&self, profile: Profile, seq: &str) -> Value {
        let schema = profile.schema();
        let values: Map<String, Value> = schema
            .sensors()
            .iter()
            .zip(&self.values)
            .map(|(sensor, value)| (sensor.key.clone(), json!(value)))
            .collect();
        let mut reading = json!({ "seq": seq, "values": values });
        if let Some(failure) = self.labels.failure {
            reading["failure"] = json!(u8::from(failure));
        }
        if let Some(mode) = &self.labels.failure_mode {
            reading["failure_mode"] = json!(mode);
        }
        if let Some(ttf) = self.labels.time_to_failure {
            reading["time_to_failure"] = json!(ttf);
        }
        reading
    }
}

impl VirtualMachine {
    /// A milling machine of a fixed quality variant.
    pub fn milling(variant: Variant, rng: &mut impl Rng) -> VirtualMachine {
        VirtualMachine::Milling(MillingMachine::new(Some(variant), rng))
    }

    /// An engine somewhere in its life (`worn` from 0.0, new, to 0.95).
    pub fn turbofan(worn: f64, rng: &mut impl Rng) -> VirtualMachine {
        VirtualMachine::Turbofan(Engine::new(worn, rng))
    }

    pub fn profile(&self) -> Profile {
        match self {
            VirtualMachine::Milling(_) => Profile::Ai4i2020,
            VirtualMachine::Turbofan(_) => Profile::Turbofan,
        }
    }

    /// Machine attributes to register it with (the AI4I quality variant).
    pub fn attributes(&self) -> Vec<(String, String)> {
        match self {
            VirtualMachine::Milling(machine) => machine
                .variant()
                .map(|v| vec![("type".to_string(), v.letter().to_string())])
                .unwrap_or_default(),
            VirtualMachine::Turbofan(_) => Vec::new(),
        }
    }

    /// The next reading, labelled with what the simulation knows.
    pub fn next(&mut self, rng: &mut impl Rng) -> SimulatedReading {
        match self {
            VirtualMachine::Milling(machine) => {
                let process = machine.next(rng);
                SimulatedReading {
                    values: process.values(),
                    labels: Labels {
                        failure: Some(process.modes.any()),
                        failure_mode: process.modes.name().map(str::to_string),
                        time_to_failure: None,
                    },
                }
            }
            VirtualMachine::Turbofan(engine) => {
                let cycle = engine.next(rng);
                SimulatedReading {
                    values: cycle.values,
                    labels: Labels {
                        failure: Some(cycle.remaining == 0),
                        failure_mode: None,
                        time_to_failure: Some(f64::from(cycle.remaining)),
                    },
                }
            }
        }
    }
}
