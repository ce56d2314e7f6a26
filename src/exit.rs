//! The three exit codes, as a type: 0 allowed, 1 denied or findings, 2 broken.

use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Allowed, or no findings.
    Success,
    /// Denied by policy, or findings reported.
    Failure,
    /// The tool or its input is broken; never looks like a pass.
    Error,
}

impl ExitStatus {
    /// The number the process exits with.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Error => 2,
        }
    }

    /// The status of a number [`ExitStatus::code`] gave; anything else is an error.
    pub fn from_code(code: u64) -> ExitStatus {
        match code {
            0 => ExitStatus::Success,
            1 => ExitStatus::Failure,
            _ => ExitStatus::Error,
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> ExitCode {
        match status {
            ExitStatus::Success => ExitCode::from(0),
            ExitStatus::Failure => ExitCode::from(1),
            ExitStatus::Error => ExitCode::from(2),
        }
    }
}
