//! A machine's history at any length: per-bucket summaries of its readings kept by a
//! background job, which the machine page's charts over a day or a year read instead of the
//! raw readings.

pub mod rollups;
