//! What the pages need from the server, declared here and fulfilled by the `server` crate.
//!
//! Server functions stay thin: they fetch these handles from the reactive context and ask.

use std::sync::Arc;

use leptos::prelude::use_context;

use crate::error::AppError;
use crate::model::{Fleet, MachineDetail};

/// Read access to machines and their readings, as the pages show them.
#[async_trait::async_trait]
pub trait FleetQueries: Send + Sync {
    /// Every machine, most at risk first.
    async fn fleet(&self) -> Result<Fleet, AppError>;
    /// One machine with its charts; `AppError::NotFound` when no machine has that name.
    async fn machine(&self, name: &str) -> Result<MachineDetail, AppError>;
}

/// The handles the server provides to every page render and server-function call.
#[derive(Clone)]
pub struct Services {
    pub fleet: Arc<dyn FleetQueries>,
}

/// The services from context, or an error instead of a panic when the server forgot them.
pub fn services() -> Result<Services, AppError> {
    use_context::<Services>()
        .ok_or_else(|| AppError::Internal("page services are not configured".to_string()))
}
