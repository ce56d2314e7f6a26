//! Alerts to the owners of deployed models that no longer comply (wired to `notify`).

use std::path::Path;

use modelgate::audit::lifecycle::Judgement;
use modelgate::audit::Store;
use modelgate::error::Result;

#[derive(Debug, Clone, serde::Serialize)]
pub struct AlertOutcome {
    pub model: String,
}

pub fn send(
    _store: &mut dyn Store,
    _policies: &Path,
    _notify: Option<&Path>,
    _no_notify: bool,
    _judgements: &[Judgement],
) -> Result<Vec<AlertOutcome>> {
    Ok(Vec::new())
}

pub fn summary(_alerts: &[AlertOutcome]) -> String {
    String::new()
}
