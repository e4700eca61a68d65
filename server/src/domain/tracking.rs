//! Where a training run stands in MLflow, as stored with the run.

/// off (no MLflow configured when it was queued), pending (owed to MLflow), tracked, or failed
/// (MLflow refused or was unreachable; retried).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackingState {
    Off,
    Pending,
    Tracked,
    Failed,
}

impl TrackingState {
    const ALL: [TrackingState; 4] = [
        TrackingState::Off,
        TrackingState::Pending,
        TrackingState::Tracked,
        TrackingState::Failed,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TrackingState::Off => "off",
            TrackingState::Pending => "pending",
            TrackingState::Tracked => "tracked",
            TrackingState::Failed => "failed",
        }
    }
}

/// A stored tracking state no `TrackingState` has.
#[derive(Debug, thiserror::Error)]
#[error("unknown tracking state {0:?}")]
pub struct UnknownTrackingState(pub String);

impl TryFrom<String> for TrackingState {
    type Error = UnknownTrackingState;

    fn try_from(name: String) -> Result<TrackingState, UnknownTrackingState> {
        TrackingState::ALL
            .into_iter()
            .find(|state| state.as_str() == name)
            .ok_or(UnknownTrackingState(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_from_its_stored_name_and_others_are_refused() {
        for state in TrackingState::ALL {
            assert_eq!(
                TrackingState::try_from(state.as_str().to_string()).unwrap(),
                state
            );
        }
        assert!(TrackingState::try_from("Tracked".to_string()).is_err());
    }
}
