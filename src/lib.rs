//! modelgate: a policy-as-code deployment gate for machine-learning models.
//!
//! Evidence about a candidate model is collected ([`collect`]) into one document
//! ([`evidence`]), judged by Rego policies ([`policy`]) into a [`decision`], recorded in
//! the audit store ([`audit`]) and rendered ([`report`]). Each stage has one job and one
//! data type at its boundary; [`run`] holds the commands' entry points.

pub mod artifacts;
pub mod attestation;
pub mod audit;
pub mod collect;
pub mod config;
pub mod data;
pub mod decision;
pub mod docs;
pub mod error;
pub mod evaluation;
pub mod evidence;
pub mod exit;
pub mod input;
pub mod notify;
pub mod policy;
pub mod report;
pub mod run;
pub mod server;
pub mod serving;
pub mod strict;
pub mod suggest;
pub mod table;
