//! icantkube's integration tests, one binary so the server links once: black-box API tests
//! against a real server (`api`), the Kubernetes runner against a stand-in API server, MLflow
//! tracking against a real `mlflow server`, the failure models through the library and the
//! binary, the simulator against the real data, and the site's files as the binary serves them.
//! `support` holds what they share.

mod alarm_webhook;
mod alarms;
mod api;
mod faults;
mod fleet_page;
mod group_commit;
mod hostile;
mod kubernetes;
mod machine_ranking;
mod maintenance;
mod mlflow;
mod model_quality;
mod models;
mod reading_counts;
mod replicas;
mod rollups;
mod route_table;
mod simulator;
mod site_files;
mod support;
mod users;
mod viewing;
