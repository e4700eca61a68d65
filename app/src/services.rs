//! What the pages need from the server, declared here and fulfilled by the `server` crate.
//!
//! Server functions stay thin: they fetch these handles from the reactive context and ask.

use std::sync::Arc;

use leptos::prelude::use_context;

use crate::error::AppError;
use crate::model::{
    AlarmQuery, AlarmsPage, ChartWindow, Fleet, FleetQuery, MachineDetail, MachinesPage,
    ModelsOverview, TrainingForm, TrainingRunDetail, TrainingRuns, UserEntry, Viewer,
};

/// Read access to machines and their readings, as the pages show them.
#[async_trait::async_trait]
pub trait FleetQueries: Send + Sync {
    /// The fleet counted by status and one page of the machines `query` matches, riskiest
    /// first; `AppError::Invalid` naming the field when a filter or cursor cannot be read.
    async fn fleet(&self, query: FleetQuery) -> Result<Fleet, AppError>;
    /// One machine with its charts over `window` (the latest readings when `None`);
    /// `AppError::NotFound` when no machine has that name.
    async fn machine(
        &self,
        name: &str,
        window: Option<ChartWindow>,
    ) -> Result<MachineDetail, AppError>;
}

/// Training runs, data sets and model versions, as the admin pages show them.
#[async_trait::async_trait]
pub trait TrainingQueries: Send + Sync {
    /// The newest runs first.
    async fn runs(&self) -> Result<TrainingRuns, AppError>;
    async fn run(&self, id: i64) -> Result<TrainingRunDetail, AppError>;
    /// The form's choices, with the preview of `dataset` when one is chosen.
    async fn form(&self, dataset: Option<i64>) -> Result<TrainingForm, AppError>;
    /// Every profile's versions, with one page of its machines (`page` picks one profile's).
    async fn models(&self, page: MachinesPage) -> Result<ModelsOverview, AppError>;
}

/// Who is asking, from the request's session cookie.
#[async_trait::async_trait]
pub trait ViewerQueries: Send + Sync {
    async fn viewer(&self, headers: &http::HeaderMap) -> Result<Viewer, AppError>;
}

/// The users, as the admins' users page lists them.
#[async_trait::async_trait]
pub trait UserQueries: Send + Sync {
    /// Every user, by name.
    async fn users(&self) -> Result<Vec<UserEntry>, AppError>;
}

/// The alarms, as the alarms page lists them.
#[async_trait::async_trait]
pub trait AlarmQueries: Send + Sync {
    /// The alarms `query` picks, those not cleared first, with the forms' token when `viewer`
    /// may act on them; `AppError::Invalid` naming the field when the query cannot be read.
    async fn alarms(&self, query: AlarmQuery, viewer: &Viewer) -> Result<AlarmsPage, AppError>;
}

/// The handles the server provides to every page render and server-function call.
#[derive(Clone)]
pub struct Services {
    pub fleet: Arc<dyn FleetQueries>,
    pub training: Arc<dyn TrainingQueries>,
    pub viewers: Arc<dyn ViewerQueries>,
    pub users: Arc<dyn UserQueries>,
    pub alarms: Arc<dyn AlarmQueries>,
}

/// The viewer of the request being served.
pub async fn viewer() -> Result<Viewer, AppError> {
    let headers: http::HeaderMap = leptos_axum::extract()
        .await
        .map_err(|e| AppError::Internal(format!("reading the request: {e}")))?;
    services()?.viewers.viewer(&headers).await
}

/// Refuses unless a signed-in admin is asking.
pub async fn require_admin() -> Result<Viewer, AppError> {
    let viewer = viewer().await?;
    if viewer.is_admin() {
        Ok(viewer)
    } else {
        Err(AppError::SignInRequired)
    }
}

/// The services from context, or an error instead of a panic when the server forgot them.
pub fn services() -> Result<Services, AppError> {
    use_context::<Services>()
        .ok_or_else(|| AppError::Internal("page services are not configured".to_string()))
}
