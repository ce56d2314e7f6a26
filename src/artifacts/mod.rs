//! Evidence about the model's own files: what format each is (by content), whether its
//! serialization can run code, and what it would run ([`pickle`], [`formats`]); and what
//! it ships with, audited against an offline vulnerability database ([`lockfiles`], [`audit`]).
//!
//! Everything here reads untrusted bytes: nothing is executed, imported or unpickled,
//! reading is bounded, and a file that cannot be parsed is unsafe, with the reason.

pub mod audit;
pub mod container;
pub mod cvss;
pub mod digest;
pub mod formats;
pub mod lockfiles;
pub mod osv;
pub mod pep440;
pub mod pickle;
pub mod requirements;
pub mod scan;
