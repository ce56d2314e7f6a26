//! Deployments: which version runs where, and by which decision.
//!
//! `deploy record` is the pipeline's deploy step. It refuses unless an `allow` decision
//! exists for exactly that model, version and environment, made under the policy bundle
//! that is current and on the evidence of this very artifact, so a gate decision cannot
//! be reused for another artifact or outlive a policy change.

use serde_json::json;

use super::{Draft, Entry, EntryKind, Filter, Record, Store};
use crate::error::{Error, ErrorKind, Result};

/// What the deploy step asks for.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub model: &'a str,
    pub version: &'a str,
    pub environment: &'a str,
    /// The gate decision to deploy by; the latest decision for model, version and
    /// environment when `None`.
    pub decision_id: Option<&'a str>,
    /// The digest of the evidence of the artifact being deployed.
    pub evidence_digest: &'a str,
    /// The digest of the policy bundle that is current.
    pub bundle_digest: &'a str,
    pub requester: Option<String>,
    /// Only a decision `modelgate server` signed with this key will do (a deployment asked
    /// of the server).
    pub server_key: Option<&'a crate::artifacts::signing::keys::VerifyingKey>,
}

/// Why a deployment was refused: the reason and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub reason: String,
    pub hint: String,
}

fn refuse(reason: String, hint: &str) -> Result<std::result::Result<Record, Refusal>> {
    Ok(Err(Refusal { reason, hint: hint.to_string() }))
}

/// Records a deployment, or says why it is refused. Errors (an unknown decision id, a
/// store failure) are errors, not refusals.
pub fn record(store: &mut dyn Store, request: &Request) -> Result<std::result::Result<Record, Refusal>> {
    let subject = format!("{} {} in {}", request.model, request.version, request.environment);
    let decision = match request.decision_id {
        Some(id) => match store.get(id)? {
            Some(record) if record.entry.kind == EntryKind::Decision => record,
            Some(record) => {
                return Err(Error::new(
                    ErrorKind::Store,
                    format!("{id} is a {} entry, not a gate decision", record.entry.kind.as_str()),
                )
                .hint("pass the decision_id of the `modelgate check` report (`audit log --model M` lists them)"))
            }
            None => {
                return Err(Error::new(ErrorKind::Store, format!("no decision {id} in the audit store {}", store.location()))
                    .hint("pass the decision_id printed by `modelgate check` against this store; `modelgate audit log` lists decisions"))
            }
        },
        None => {
            let filter = Filter {
                kinds: vec![EntryKind::Decision],
                model: Some(request.model.to_string()),
                version: Some(request.version.to_string()),
                environment: Some(request.environment.to_string()),
                limit: Some(1),
                newest_first: true,
                ..Filter::default()
            };
            let mut latest = None;
            store.scan(&filter, &mut |record| {
                latest = Some(record);
                Ok(false)
            })?;
            match latest {
                Some(record) => record,
                None => {
                    return refuse(
                        format!("no gate decision is recorded for {subject}"),
                        "run `modelgate check` for this version and environment against this store first",
                    )
                }
            }
        }
    };
    let entry = &decision.entry;
    if entry.model != request.model
        || entry.version != request.version
        || entry.environment.as_deref() != Some(request.environment)
    {
        return refuse(
            format!(
                "decision {} is for {} {} in {}, not for {subject}",
                entry.id,
                entry.model,
                entry.version,
                entry.environment.as_deref().unwrap_or("no environment")
            ),
            "a decision only allows the model, version and environment it judged: run `modelgate check` for this one",
        );
    }
    if request.server_key.is_some_and(|key| !super::checkpoint::signed_by(entry, key)) {
        return refuse(
            format!("decision {} for {subject} was not made by the server", entry.id),
            "submit the evidence with `modelgate check --server`, then deploy by the decision it returns",
        );
    }
    if entry.decision.as_deref() != Some("allow") {
        return refuse(
            format!(
                "decision {} for {subject} is `{}`, not `allow`",
                entry.id,
                entry.decision.as_deref().unwrap_or("?")
            ),
            "fix what the decision reports (`modelgate audit show ID`), then run `modelgate check` again",
        );
    }
    if entry.bundle_digest.as_deref() != Some(request.bundle_digest) {
        return refuse(
            format!(
                "decision {} was made under policy bundle {}, but the current bundle is {}",
                entry.id,
                entry.bundle_digest.as_deref().unwrap_or("(none)"),
                request.bundle_digest
            ),
            "the policies changed since the check: run `modelgate check` again under the current policies",
        );
    }
    if entry.evidence_digest.as_deref() != Some(request.evidence_digest) {
        return refuse(
            format!(
                "decision {} judged evidence {}, but the artifact being deployed has evidence {}",
                entry.id,
                entry.evidence_digest.as_deref().unwrap_or("(none)"),
                request.evidence_digest
            ),
            "a gate decision cannot be reused for another artifact: check this artifact and deploy by its decision",
        );
    }
    let current = store.deployments_at(None, Some(request.environment), Some(request.model))?;
    let current = current.first();
    let mut earlier = false;
    let history = Filter {
        kinds: vec![EntryKind::Deploy],
        model: Some(request.model.to_string()),
        version: Some(request.version.to_string()),
        environment: Some(request.environment.to_string()),
        limit: Some(1),
        ..Filter::default()
    };
    store.scan(&history, &mut |_| {
        earlier = true;
        Ok(false)
    })?;
    let action = match current {
        Some(current) if current.entry.version == request.version => "redeploy",
        Some(_) | None if earlier => "rollback",
        _ => "deploy",
    };
    let mut deployment = Entry::new(EntryKind::Deploy, request.model, request.version, Some(request.environment));
    deployment.requester = request.requester.clone();
    deployment.evidence_digest = entry.evidence_digest.clone();
    deployment.bundle_digest = entry.bundle_digest.clone();
    deployment.bundle_revision = entry.bundle_revision.clone();
    deployment.details = json!({
        "decision_id": entry.id,
        "action": action,
        "owner": entry.detail("owner"),
        "previous_version": current.map(|current| current.entry.version.clone()),
        "previous_deployment_id": current.map(|current| current.entry.id.clone()),
    });
    let record = store.append(vec![Draft { entry: deployment, blobs: Vec::new(), bundle: None }])?.remove(0);
    Ok(Ok(record))
}

/// Ends the deployment of `model` in `environment`.
pub fn retire(
    store: &mut dyn Store,
    model: &str,
    environment: &str,
    requester: Option<String>,
    reason: Option<&str>,
) -> Result<std::result::Result<Record, Refusal>> {
    let current = store.deployments_at(None, Some(environment), Some(model))?;
    let Some(current) = current.first() else {
        return refuse(
            format!("{model} is not deployed in {environment}"),
            "`modelgate audit at --environment E` lists what is deployed",
        );
    };
    let mut entry = Entry::new(EntryKind::Retire, model, &current.entry.version, Some(environment));
    entry.requester = requester;
    entry.details = json!({"deployment_id": current.entry.id, "reason": reason});
    Ok(Ok(store.append(vec![Draft { entry, blobs: Vec::new(), bundle: None }])?.remove(0)))
}
