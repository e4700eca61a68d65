//! Pieces shared by several pages.

pub mod error_view;
pub mod header;
pub mod island_scripts;
pub mod live_refresh;
pub mod machine_picker;
pub mod run_state;
pub mod status_badge;
pub mod upload_progress;
