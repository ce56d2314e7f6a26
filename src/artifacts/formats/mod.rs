//! Format detection by content and structural validation of the non-pickle weight formats
//! (safetensors, NumPy .npy, GGUF). Each checker reads only headers, from a reader plus the
//! file length, so memory stays bounded whatever the file claims; any rule broken is a
//! finding (kind `format`), and a file with a finding is unsafe. Rules and sources:
//! `docs/model-formats.md`.

pub mod compressed;
pub mod detect;
pub mod gguf;
pub mod jinja;
pub mod keras;
pub mod npy;
pub mod onnx;
pub mod protobuf;
pub mod safetensors;
pub mod savedmodel;

pub use detect::{detect, Format};
pub use gguf::check_gguf;
pub use keras::{check_keras_config, check_keras_h5};
pub use npy::check_npy;
pub use onnx::check_onnx;
pub use safetensors::check_safetensors;
pub use savedmodel::check_savedmodel;

use crate::evidence::{ArtifactFinding, Severity};

/// What a structural check found in one file.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FormatReport {
    /// `safetensors`, `npy`, `gguf`.
    pub format: &'static str,
    /// Loading the file with its usual loader can run code (an object-dtype .npy is a pickle).
    pub executable: bool,
    pub findings: Vec<ArtifactFinding>,
    /// Format-specific facts: tensor count, dtypes, metadata keys, …
    pub details: serde_json::Value,
}

impl FormatReport {
    fn new(format: &'static str) -> FormatReport {
        FormatReport { format, executable: false, findings: Vec::new(), details: serde_json::Value::Null }
    }

    /// Safe to load: no finding and nothing executable.
    pub fn safe(&self) -> bool {
        self.findings.is_empty() && !self.executable
    }

    fn finding(&mut self, severity: Severity, offset: Option<u64>, why: impl Into<String>) {
        self.findings.push(ArtifactFinding { kind: "format".into(), global: None, offset, severity, why: why.into() });
    }
}

/// Reads exactly `n` bytes, or fewer if the reader ends first; never allocates more than `n`.
fn read_up_to(reader: &mut impl std::io::Read, n: u64) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    use std::io::Read;
    reader.take(n).read_to_end(&mut buf)?;
    Ok(buf)
}
