//! Timestamps: milliseconds since the Unix epoch, UTC, everywhere inside; RFC 3339 at the edges.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Now, in milliseconds since the epoch.
pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// `2026-11-27T10:15:00.123Z` for a millisecond timestamp.
pub fn to_rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| ms.to_string())
}

/// Parses an RFC 3339 time (any offset) to milliseconds since the epoch.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_at_millisecond_precision() {
        let ms = 1_795_000_000_123;
        assert_eq!(parse_rfc3339(&to_rfc3339(ms)), Some(ms));
    }

    #[test]
    fn offsets_are_converted_to_utc() {
        assert_eq!(
            parse_rfc3339("2026-01-01T01:00:00+01:00"),
            parse_rfc3339("2026-01-01T00:00:00Z")
        );
    }
}
