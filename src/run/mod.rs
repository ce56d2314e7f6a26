//! The commands that have logic, as library entry points: each takes a request, does the
//! work (recording in the audit store where the command records), writes what it
//! reports to an `io::Write` and returns its exit status. The command line is one caller;
//! a service is another.

pub mod lifecycle;
