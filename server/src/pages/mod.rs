//! The adapters behind the pages: they implement the queries `app::services` declares, reading
//! storage, models and charts, so the `app` crate never sees sqlx, smartcore or plotters.

pub mod alarms;
pub mod fleet;
pub mod links;
pub mod training;
pub mod viewers;

use app::error::AppError;

use crate::error::{cause_chain, Error};
pub use alarms::StoredAlarms;
pub use fleet::StoredFleet;
pub use training::StoredTraining;
pub use viewers::{SessionViewers, StoredUsers};

/// The one conversion of an internal error for a page: logged here, with its causes, and shown
/// as a message without internals, so the adapters just use `?`.
impl From<Error> for AppError {
    fn from(error: Error) -> AppError {
        if let Some(fault) = error.storage_fault() {
            tracing::warn!(cause_chain = %cause_chain(&error), "storage {fault}: page refused");
            return AppError::Unavailable(format!(
                "storage {fault}; try again in {} s",
                fault.retry_after().as_secs()
            ));
        }
        tracing::error!(cause_chain = %cause_chain(&error), "page query failed");
        AppError::Internal("the data could not be read; the server log has the details".into())
    }
}
