//! `reevaluate`'s alerts: which notifiers, and what became of each delivery.

use std::fmt::Write as _;
use std::path::Path;

use modelgate::audit::alerts::{self, AlertOutcome};
use modelgate::audit::lifecycle::Judgement;
use modelgate::audit::Store;
use modelgate::error::Result;
use modelgate::notify::{DeliveryStatus, NotifyConfig, DEFAULT_FILE};

/// The notifiers: `--notify FILE`, else the policy repository's notifications.yaml when
/// there is one; none with `--no-notify`. Read before anything is judged, so a file that
/// cannot work stops the run before it records anything.
pub fn config(policies: &Path, notify: Option<&Path>, no_notify: bool) -> Result<Option<NotifyConfig>> {
    if no_notify {
        return Ok(None);
    }
    let path = match notify {
        Some(path) => path.to_path_buf(),
        None => {
            let path = policies.join(DEFAULT_FILE);
            if !path.exists() {
                return Ok(None);
            }
            path
        }
    };
    NotifyConfig::load(&path).map(Some)
}

/// Sends the alerts and warns about failed deliveries.
pub fn send(
    store: &mut dyn Store,
    config: Option<&NotifyConfig>,
    judgements: &[Judgement],
) -> Result<Option<Vec<AlertOutcome>>> {
    let Some(config) = config else {
        return Ok(None);
    };
    let outcomes = alerts::send(store, config, judgements)?;
    let failed: usize = outcomes
        .iter()
        .flat_map(|outcome| &outcome.deliveries)
        .filter(|delivery| delivery.status == DeliveryStatus::Failed)
        .count();
    if failed > 0 {
        eprintln!(
            "warning: {failed} alert deliveries failed; they are recorded and will be retried by the next reevaluate"
        );
    }
    Ok(Some(outcomes))
}

pub fn summary(outcomes: Option<&[AlertOutcome]>) -> String {
    let mut out = String::new();
    let Some(outcomes) = outcomes else {
        let _ = writeln!(out, "alerts: none sent (no notifications.yaml in the policy repository, or --no-notify)");
        return out;
    };
    if outcomes.is_empty() {
        let _ = writeln!(out, "alerts: none needed");
        return out;
    }
    let _ = writeln!(out, "alerts:");
    for outcome in outcomes {
        let subject = format!("{} {} in {}", outcome.model, outcome.version, outcome.environment);
        for delivery in &outcome.deliveries {
            let result = match delivery.status {
                DeliveryStatus::Delivered => format!("delivered ({} attempts)", delivery.attempts),
                DeliveryStatus::Failed => format!(
                    "FAILED after {} attempts: {}",
                    delivery.attempts,
                    delivery.error.as_deref().unwrap_or("no reason given")
                ),
            };
            let _ = writeln!(out, "  {subject}: {} ({}) {result}", delivery.notifier, delivery.kind);
        }
        for notifier in &outcome.already_alerted {
            let _ = writeln!(out, "  {subject}: {notifier} already alerted for these policies");
        }
    }
    out
}
