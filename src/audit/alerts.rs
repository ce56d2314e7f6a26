//! Alerts to the owners of deployed models that no longer comply, and their record.
//!
//! Each alert is delivered through every configured notifier that has not already
//! delivered one for that deployment under the same policy bundle, then recorded as an
//! `alert` entry with what became of each delivery, before the next alert is sent. A
//! delivery that failed is recorded as failed and tried again by the next `reevaluate`.

use serde::Serialize;
use serde_json::json;

use super::lifecycle::{already_alerted, Judgement, Status};
use super::{Draft, Entry, EntryKind, Store};
use crate::error::Result;
use crate::notify::{self, Alert, AlertKind, AlertViolation, Delivery, DeliveryStatus, NotifyConfig};

/// What was sent about one model.
#[derive(Debug, Clone, Serialize)]
pub struct AlertOutcome {
    pub model: String,
    pub version: String,
    pub environment: String,
    pub alert_id: Option<String>,
    pub deliveries: Vec<Delivery>,
    /// Notifiers that already delivered an alert for this deployment and bundle.
    pub already_alerted: Vec<String>,
}

pub fn alert_of(judgement: &Judgement) -> Alert {
    let findings =
        if judgement.new_violations.is_empty() { &judgement.report.violations } else { &judgement.new_violations };
    Alert {
        id: Alert::new_id(),
        kind: if judgement.status == Status::Error { AlertKind::Error } else { AlertKind::NonCompliant },
        time: Alert::now(),
        model: judgement.model.clone(),
        version: judgement.version.clone(),
        environment: judgement.environment.clone(),
        owner: judgement.owner.clone(),
        decision_id: judgement.report.decision_id.clone(),
        deployment_id: judgement.deployment_id.clone(),
        original_decision_id: judgement.original_decision_id.clone(),
        bundle: notify::BundleRef {
            digest: judgement.bundle.digest.clone(),
            revision: judgement.bundle.revision.clone(),
        },
        previous_bundle: notify::BundleRef {
            digest: judgement.previous_bundle.digest.clone(),
            revision: judgement.previous_bundle.revision.clone(),
        },
        violations: findings
            .iter()
            .map(|finding| AlertViolation {
                code: finding.code.clone(),
                msg: finding.msg.clone(),
                severity: finding.severity.as_str().to_string(),
                remediation: finding.remediation.clone(),
            })
            .collect(),
        changed_files: judgement.changed_files.clone(),
        error: judgement.report.error.as_ref().map(|error| error.message.clone()),
    }
}

/// Alerts the owners of every judged model that does not comply. `down` names the
/// notifiers that failed after all their retries earlier in the run: they are not tried
/// again in this run; their alerts are recorded as failed and sent by the next run.
pub fn send(
    store: &mut dyn Store,
    config: &NotifyConfig,
    judgements: &[Judgement],
    down: &mut Vec<String>,
) -> Result<Vec<AlertOutcome>> {
    let mut outcomes = Vec::new();
    for judgement in judgements.iter().filter(|judgement| !judgement.status.complies()) {
        let mut pending = Vec::new();
        let mut skipped = Vec::new();
        for notifier in &config.notifiers {
            if already_alerted(store, judgement, &notifier.name)? {
                skipped.push(notifier.name.clone());
            } else {
                pending.push(notifier);
            }
        }
        let mut outcome = AlertOutcome {
            model: judgement.model.clone(),
            version: judgement.version.clone(),
            environment: judgement.environment.clone(),
            alert_id: None,
            deliveries: Vec::new(),
            already_alerted: skipped,
        };
        if pending.is_empty() {
            outcomes.push(outcome);
            continue;
        }
        let alert = alert_of(judgement);
        for notifier in pending {
            let delivery = if down.contains(&notifier.name) {
                Delivery {
                    error: Some("not attempted: this notifier failed earlier in the run".into()),
                    ..Delivery::not_yet(notifier, String::new())
                }
            } else {
                notify::deliver(notifier, &alert)
            };
            if delivery.status == DeliveryStatus::Failed && delivery.attempts > 0 {
                down.push(notifier.name.clone());
            }
            outcome.deliveries.push(delivery);
        }
        let mut entry =
            Entry::new(EntryKind::Alert, &judgement.model, &judgement.version, Some(&judgement.environment));
        entry.id = alert.id.clone();
        entry.bundle_digest = Some(judgement.bundle.digest.clone());
        entry.bundle_revision = judgement.bundle.revision.clone();
        entry.requester = Some("reevaluate".into());
        entry.details = json!({
            "deployment_id": judgement.deployment_id,
            "decision_id": judgement.report.decision_id,
            "alert": alert,
            "deliveries": outcome.deliveries,
        });
        store.append(vec![Draft { entry, blobs: Vec::new(), bundle: None }])?;
        outcome.alert_id = Some(alert.id);
        outcomes.push(outcome);
    }
    Ok(outcomes)
}
