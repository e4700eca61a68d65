//! Domain types, parsed from untrusted input once and trusted afterwards.

mod machine_name;
pub mod profiles;
mod reading;
pub mod risk;
mod sensor_schema;
mod status;
pub mod time;
pub mod tracking;

pub use machine_name::MachineName;
pub use reading::{
    parse_csv_batch, parse_json_batch, BatchError, FieldError, Labels, NewReading,
    MAX_FUTURE_SKEW_MS, MIN_TIMESTAMP_MS,
};
pub use risk::{riskiest_first, RiskRank};
pub use sensor_schema::{SensorSchema, RESERVED_COLUMNS};
pub use status::status_of;
pub use tracking::TrackingState;
