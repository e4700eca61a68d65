//! Making a model version a machine's active one: from the API, from the models page, and at
//! the end of a training run that asked to promote its model where it does better.

use crate::db::machines::{self, Machine};
use crate::db::{model_versions, Database};
use crate::error::Error;
use ml::evaluation::Evaluation;
use ml::Model;

/// Why a version was not promoted.
#[derive(Debug, thiserror::Error)]
pub enum PromotionError {
    /// The machine lacks an input the model needs (names each).
    #[error("{0}")]
    DoesNotFit(String),
    #[error(transparent)]
    Storage(#[from] Error),
}

/// Promotes `version_id` (whose model is `model`) on `machine`, recording who and why. A model
/// that does not fit the machine's sensors and attributes is refused and nothing changes.
pub async fn promote(
    db: &Database,
    model: &Model,
    version_id: i64,
    machine: &Machine,
    by: &str,
    reason: &str,
) -> Result<(), PromotionError> {
    model
        .bind(&machine.name, &machine.schema.keys(), &machine.attributes)
        .map_err(|error| PromotionError::DoesNotFit(error.to_string()))?;
    model_versions::promote(db.pool(), machine.id, version_id, by, reason).await?;
    tracing::info!(machine = %machine.name, version_id, by, "model version promoted");
    Ok(())
}

/// The metric versions are compared on: F1 for failures (higher is better), RMSE for
/// remaining life (lower is better).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Headline {
    pub name: &'static str,
    pub value: f64,
    pub higher_is_better: bool,
}

pub fn headline(evaluation: &Evaluation) -> Option<Headline> {
    if let Some(classification) = &evaluation.classification {
        return Some(Headline {
            name: "F1",
            value: classification.f1,
            higher_is_better: true,
        });
    }
    evaluation.regression.as_ref().map(|regression| Headline {
        name: "RMSE",
        value: regression.rmse,
        higher_is_better: false,
    })
}

/// Whether `candidate` beats `active` on the headline metric (a tie does not).
pub fn improves(candidate: &Evaluation, active: &Evaluation) -> bool {
    match (headline(candidate), headline(active)) {
        (Some(new), Some(old)) if new.name == old.name => {
            if new.higher_is_better {
                new.value > old.value
            } else {
                new.value < old.value
            }
        }
        _ => false,
    }
}

/// After a training run with "promote if better": promotes the new version on each machine of
/// the run (its machine, or every machine of its profile) that has no active version, or whose
/// active version it beats. Answers the machines promoted; a machine the model does not fit
/// is skipped with a warning.
pub async fn promote_where_better(
    db: &Database,
    model: &Model,
    version_id: i64,
    run_id: i64,
    machine_id: Option<i64>,
    profile: &str,
) -> Result<Vec<String>, Error> {
    let pool = db.pool();
    let candidates: Vec<Machine> = machines::list(pool)
        .await?
        .into_iter()
        .filter(|m| m.profile == profile && machine_id.is_none_or(|id| id == m.id))
        .collect();
    let mut promoted = Vec::new();
    for machine in candidates {
        let better = match machine.active_model_version_id {
            None => true,
            Some(active) => {
                let bytes = model_versions::artifact(pool, active).await?;
                match Model::card_from_bytes(&bytes) {
                    Ok(active) => improves(&model.card.evaluation, &active.evaluation),
                    // An unreadable active model is worse than any that works.
                    Err(_) => true,
                }
            }
        };
        if !better {
            continue;
        }
        let by = format!("training run {run_id}");
        match promote(
            db,
            model,
            version_id,
            &machine,
            &by,
            "better than the active version",
        )
        .await
        {
            Ok(()) => promoted.push(machine.name),
            Err(PromotionError::DoesNotFit(why)) => {
                tracing::warn!(machine = %machine.name, %why, "not promoted: the model does not fit");
            }
            Err(PromotionError::Storage(error)) => return Err(error),
        }
    }
    Ok(promoted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ml::metrics::RegressionMetrics;

    fn evaluation(regression: Option<RegressionMetrics>) -> Evaluation {
        Evaluation {
            scheme: "test".into(),
            folds: 5,
            classification: None,
            regression,
            per_fold: Vec::new(),
            calibration: None,
            per_mode: Vec::new(),
            roc_curve: Vec::new(),
            pr_curve: Vec::new(),
            residuals: Vec::new(),
            training_seconds: 0.0,
        }
    }

    fn regression(rmse: f64) -> Evaluation {
        evaluation(Some(RegressionMetrics {
            rmse,
            mae: rmse,
            phm08_per_100: 0.0,
            interval_coverage: None,
            interval_half_width: None,
            rows: 10,
        }))
    }

    #[test]
    fn lower_error_improves_remaining_life_and_a_tie_does_not() {
        assert!(improves(&regression(11.0), &regression(12.0)));
        assert!(!improves(&regression(12.0), &regression(11.0)));
        assert!(!improves(&regression(12.0), &regression(12.0)));
        assert!(!improves(&regression(11.0), &evaluation(None)));
    }
}
