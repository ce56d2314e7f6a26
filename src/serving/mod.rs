//! Serving performance: latency and throughput of the model's inference endpoint, for the
//! evidence's `evaluation.serving` section.
//!
//! The figures come either from a load-test report file ([`read_report`]: modelgate's own JSON
//! or a k6 summary) or from the built-in load generator ([`loadtest::run`], `modelgate loadtest`).
//! Either way they are measurements only; the policies judge them. The user guide is
//! `docs/serving.md`.

pub mod k6;
pub mod loadtest;
mod report;
pub mod requests;
pub mod stats;

pub use loadtest::{Outcome, Plan, Stop};
pub use report::{parse_report, read_report, ACCEPTED_SHAPES};
pub use requests::{read_requests, Protocol};
