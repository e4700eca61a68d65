//! The data-set loader on any file an admin could upload, with the choices the training form
//! and the `train` command can make (layout, profile, target, roles, life cap): every file
//! must load or be refused, never panic, abort or hang. A loaded data set must then answer
//! what training asks of it first.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use ml::dataset::{DatasetProfile, Layout, Role};
use ml::{Dataset, LoadOptions};

/// Each input is loaded once per option set, so the corpus stays plain files.
static OPTIONS: LazyLock<Vec<LoadOptions>> = LazyLock::new(|| {
    vec![
        LoadOptions::default(),
        LoadOptions {
            layout: Some(Layout::Cmapss),
            ..LoadOptions::default()
        },
        LoadOptions {
            profile: Some(DatasetProfile::RunToFailure),
            life_cap: Some(0.5),
            ..LoadOptions::default()
        },
        LoadOptions {
            profile: Some(DatasetProfile::Ai4i2020),
            target: Some("Machine failure".into()),
            ..LoadOptions::default()
        },
        LoadOptions {
            profile: Some(DatasetProfile::Generic),
            target: Some("target".into()),
            roles: vec![
                ("Type".into(), Role::Categorical),
                ("a".into(), Role::Input),
                ("unit".into(), Role::Unit),
                ("cycle".into(), Role::Timestamp),
            ],
            ..LoadOptions::default()
        },
    ]
});

fuzz_target!(|bytes: &[u8]| {
    for options in OPTIONS.iter() {
        if let Ok(dataset) = Dataset::load(bytes, options) {
            let _ = dataset.is_classification();
            let _ = dataset.target_values();
            let _ = (dataset.unit(), dataset.timestamp());
        }
    }
});
