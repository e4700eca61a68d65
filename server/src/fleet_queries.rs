//! What the fleet and machine pages show, read from storage (the `FleetQueries` the app
//! declares).

use std::cmp::Ordering;

use app::error::AppError;
use app::model::{Fleet, MachineCard, MachineDetail, SensorValue};
use app::services::FleetQueries;

use crate::charts;
use crate::db::machines::Machine;
use crate::db::{machines, readings, Database};
use crate::error::{cause_chain, Error};
use crate::time::now_ms;

/// Readings per sensor chart on the machine page.
const TREND_WINDOW: i64 = 240;

/// Reads machines and readings for the pages.
pub struct StoredFleet {
    db: Database,
}

impl StoredFleet {
    pub fn new(db: Database) -> StoredFleet {
        StoredFleet { db }
    }
}

/// Logs an internal error and gives the page a message without internals.
fn page_error(error: Error) -> AppError {
    tracing::error!(cause_chain = %cause_chain(&error), "page query failed");
    AppError::Internal("the data could not be read; the server log has the details".into())
}

fn card(machine: &Machine) -> MachineCard {
    let latest = match &machine.last_values {
        Some(values) => machine
            .schema
            .sensors()
            .iter()
            .zip(values)
            .map(|(sensor, value)| SensorValue {
                label: sensor.label.clone(),
                unit: sensor.unit.clone(),
                value: *value,
            })
            .collect(),
        None => Vec::new(),
    };
    MachineCard {
        name: machine.name.clone(),
        display_name: machine.display_name.clone(),
        profile: machine.profile.clone(),
        status: machine.status,
        failure_probability: machine.failure_probability,
        last_reading_at: machine.last_reading_at,
        latest,
    }
}

/// Most urgent status first, then highest failure probability, then name.
fn by_risk(a: &MachineCard, b: &MachineCard) -> Ordering {
    b.status
        .urgency()
        .cmp(&a.status.urgency())
        .then_with(|| {
            let pa = a.failure_probability.unwrap_or(-1.0);
            let pb = b.failure_probability.unwrap_or(-1.0);
            pb.total_cmp(&pa)
        })
        .then_with(|| a.name.cmp(&b.name))
}

#[async_trait::async_trait]
impl FleetQueries for StoredFleet {
    async fn fleet(&self) -> Result<Fleet, AppError> {
        let machines = machines::list(self.db.pool()).await.map_err(page_error)?;
        let mut cards: Vec<MachineCard> = machines.iter().map(card).collect();
        cards.sort_by(by_risk);
        Ok(Fleet {
            machines: cards,
            generated_at: now_ms(),
        })
    }

    async fn machine(&self, name: &str) -> Result<MachineDetail, AppError> {
        let pool = self.db.pool();
        let machine = machines::find(pool, name)
            .await
            .map_err(page_error)?
            .ok_or_else(|| AppError::NotFound(format!("machine {name:?}")))?;
        let recent = readings::recent(pool, machine.id, TREND_WINDOW)
            .await
            .map_err(page_error)?;
        let reading_count = readings::count(pool, machine.id)
            .await
            .map_err(page_error)?;
        let charts = machine
            .schema
            .sensors()
            .iter()
            .enumerate()
            .map(|(index, sensor)| {
                let points: Vec<(i64, f64)> = recent
                    .iter()
                    .filter_map(|r| r.values.get(index).map(|v| (r.recorded_at, *v)))
                    .collect();
                charts::sensor_trend(sensor, &points)
            })
            .collect();
        Ok(MachineDetail {
            card: card(&machine),
            attributes: machine.attributes.clone().into_iter().collect(),
            monitoring: machine.monitoring,
            reading_count,
            charts,
            generated_at: now_ms(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::Status;

    fn card(name: &str, status: Status, probability: Option<f64>) -> MachineCard {
        MachineCard {
            name: name.into(),
            display_name: name.into(),
            profile: "ai4i2020".into(),
            status,
            failure_probability: probability,
            last_reading_at: None,
            latest: Vec::new(),
        }
    }

    #[test]
    fn the_riskiest_machine_comes_first() {
        let mut cards = [
            card("a", Status::Healthy, Some(0.1)),
            card("b", Status::Unknown, None),
            card("c", Status::Critical, Some(0.7)),
            card("d", Status::Warning, Some(0.4)),
            card("e", Status::Critical, Some(0.9)),
        ];
        cards.sort_by(by_risk);
        let order: Vec<&str> = cards.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(order, ["e", "c", "d", "a", "b"]);
    }
}
