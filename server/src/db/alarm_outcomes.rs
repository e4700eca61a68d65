//! How a model version's alarms turned out, as engineers' maintenance records settled them:
//! raised, confirmed by a repair or a replacement, marked false; and the lead time from each
//! confirmed alarm to the work that confirmed it.

use std::collections::HashMap;

use sqlx::{Any, AnyPool, QueryBuilder};

use crate::error::Result;

/// One version's alarms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcomes {
    pub raised: i64,
    pub confirmed: i64,
    pub false_alarms: i64,
    /// From each confirmed alarm's raising to the repair's time, in ms, shortest first.
    pub lead_times_ms: Vec<i64>,
}

impl Outcomes {
    /// The share of settled alarms that were right, when any were settled.
    pub fn precision(&self) -> Option<f64> {
        let settled = self.confirmed + self.false_alarms;
        (settled > 0).then(|| self.confirmed as f64 / settled as f64)
    }

    /// The median lead time, when an alarm was confirmed.
    pub fn median_lead_ms(&self) -> Option<i64> {
        let times = &self.lead_times_ms;
        match times.len() {
            0 => None,
            n if n % 2 == 1 => Some(times[n / 2]),
            n => Some((times[n / 2 - 1] + times[n / 2]) / 2),
        }
    }
}

/// The outcomes of the versions' alarms, by version id (versions without alarms are left out).
pub async fn of_versions(pool: &AnyPool, version_ids: &[i64]) -> Result<HashMap<i64, Outcomes>> {
    if version_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut counts: QueryBuilder<Any> = QueryBuilder::new(
        "SELECT model_version_id, COUNT(*), COUNT(CASE WHEN outcome = 'confirmed' THEN 1 END), \
         COUNT(CASE WHEN outcome = 'false' THEN 1 END) FROM alarms WHERE model_version_id IN (",
    );
    push_ids(&mut counts, version_ids);
    counts.push(" GROUP BY model_version_id");
    let rows: Vec<(i64, i64, i64, i64)> = counts.build_query_as().fetch_all(pool).await?;
    let mut outcomes: HashMap<i64, Outcomes> = rows
        .into_iter()
        .map(|(version, raised, confirmed, false_alarms)| {
            (
                version,
                Outcomes {
                    raised,
                    confirmed,
                    false_alarms,
                    lead_times_ms: Vec::new(),
                },
            )
        })
        .collect();
    let mut leads: QueryBuilder<Any> = QueryBuilder::new(
        "SELECT a.model_version_id, m.done_at - a.raised_at FROM alarms a \
         JOIN maintenance m ON m.alarm_id = a.id \
         WHERE a.outcome = 'confirmed' AND m.kind IN ('repair', 'part_replaced') \
         AND a.model_version_id IN (",
    );
    push_ids(&mut leads, version_ids);
    let rows: Vec<(i64, i64)> = leads.build_query_as().fetch_all(pool).await?;
    for (version, lead) in rows {
        if let Some(outcome) = outcomes.get_mut(&version) {
            outcome.lead_times_ms.push(lead.max(0));
        }
    }
    for outcome in outcomes.values_mut() {
        outcome.lead_times_ms.sort_unstable();
    }
    Ok(outcomes)
}

fn push_ids(query: &mut QueryBuilder<'_, Any>, ids: &[i64]) {
    let mut separated = query.separated(", ");
    for id in ids {
        separated.push_bind(*id);
    }
    separated.push_unseparated(")");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_counts_settled_alarms_and_the_median_takes_the_middle() {
        let outcomes = Outcomes {
            raised: 10,
            confirmed: 3,
            false_alarms: 1,
            lead_times_ms: vec![1, 5, 9],
        };
        assert_eq!(outcomes.precision(), Some(0.75));
        assert_eq!(outcomes.median_lead_ms(), Some(5));
        let even = Outcomes {
            lead_times_ms: vec![2, 4, 6, 10],
            ..Outcomes::default()
        };
        assert_eq!(even.median_lead_ms(), Some(5));
        assert_eq!(even.precision(), None, "nothing settled");
    }
}
