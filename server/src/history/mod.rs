//! A machine's history at any length: per-bucket summaries of its readings kept by a
//! background job, which the machine page's charts over a day or a year read instead of the
//! raw readings, and the retention that deletes old raw readings once summarised.

pub mod retention;
pub mod rollups;
