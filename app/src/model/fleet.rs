//! The fleet page: counts by status, then one page of machines, riskiest first.

use serde::{Deserialize, Serialize};

use super::{MachineCard, Status};

/// What the fleet page was asked for, as its URL's query string gives it (`?q=&status=&...`):
/// plain links and a GET form, so it works without JavaScript.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetQuery {
    /// Part of a machine's name or display name.
    pub q: Option<String>,
    pub status: Option<String>,
    pub profile: Option<String>,
    pub place: Option<String>,
    /// Where the previous page ended (the `next` of that page).
    pub after: Option<String>,
}

impl FleetQuery {
    /// The query string of this view (the filters and `after`), empty values left out.
    pub fn to_query_string(&self) -> String {
        let pairs = [
            ("q", &self.q),
            ("status", &self.status),
            ("profile", &self.profile),
            ("place", &self.place),
            ("after", &self.after),
        ];
        let mut encoded = form_urlencoded::Serializer::new(String::new());
        for (key, value) in pairs {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                encoded.append_pair(key, value);
            }
        }
        match encoded.finish() {
            query if query.is_empty() => query,
            query => format!("?{query}"),
        }
    }

    /// The query with its empty values left out: a GET form sends its empty fields too, and an
    /// empty one filters nothing.
    pub fn without_empty(self) -> FleetQuery {
        let keep = |value: Option<String>| value.filter(|v| !v.is_empty());
        FleetQuery {
            q: keep(self.q),
            status: keep(self.status),
            profile: keep(self.profile),
            place: keep(self.place),
            after: keep(self.after),
        }
    }

    /// The same filters on another page (`after`) or the first (`None`).
    pub fn at(&self, after: Option<String>) -> FleetQuery {
        FleetQuery {
            after,
            ..self.clone()
        }
    }

    /// Only this status, the rest of the view's filters dropped.
    pub fn only(status: Status) -> FleetQuery {
        FleetQuery {
            status: Some(status.as_str().to_string()),
            ..FleetQuery::default()
        }
    }

    /// Whether any filter narrows the fleet.
    pub fn is_filtered(&self) -> bool {
        [&self.q, &self.status, &self.profile, &self.place]
            .into_iter()
            .any(|value| value.as_deref().is_some_and(|v| !v.is_empty()))
    }
}

/// How many machines have one status.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StatusCount {
    pub status: Status,
    pub count: i64,
}

/// The fleet page's data: the whole fleet counted by status, and one page of the machines the
/// query matches, riskiest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fleet {
    /// Every status, most urgent first, zero counts included.
    pub counts: Vec<StatusCount>,
    /// Machines in the fleet, and those the query matches.
    pub total: i64,
    pub matching: i64,
    /// This page's machines, riskiest first.
    pub machines: Vec<MachineCard>,
    /// Where the next page starts, when there is one.
    pub next: Option<String>,
    /// The filters' choices: every place and profile in the fleet.
    pub places: Vec<String>,
    pub profiles: Vec<String>,
    /// Alarms not cleared, in the whole fleet.
    pub alarms: i64,
    /// Server time the view was built at (ms since the epoch), so "12 s ago" needs no client clock.
    pub generated_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_string_keeps_the_filters_and_encodes_them() {
        let query = FleetQuery {
            q: Some("mill 0&1".into()),
            status: Some("warning".into()),
            profile: Some(String::new()),
            place: None,
            after: Some("0.4:mill-01".into()),
        };
        assert_eq!(
            query.to_query_string(),
            "?q=mill+0%261&status=warning&after=0.4%3Amill-01"
        );
        assert_eq!(
            query.at(None).to_query_string(),
            "?q=mill+0%261&status=warning"
        );
        assert!(query.is_filtered());
        assert_eq!(FleetQuery::default().to_query_string(), "");
        assert!(!FleetQuery::default().at(Some("x".into())).is_filtered());
    }
}
