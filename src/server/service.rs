//! What the server does, without HTTP: publish and activate bundles, judge submitted
//! evidence under the bundle active for its environment, record, sign. Each operation runs
//! on a blocking thread with a store of its own ([`Stores`]); nothing a replica needs lives
//! only in memory: the active bundle is read from the store on every decision, and the
//! compiled bundles kept warm here are a cache keyed by digest.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::auth::Caller;
use super::config::ServerConfig;
use super::ApiError;
use crate::artifacts::signing::keys::SigningKey;
use crate::attestation::{self, Subject};
use crate::audit::record::{self, decision_draft};
use crate::audit::{self, Access, Address, Draft, Entry, EntryKind, Filter, Store};
use crate::decision::{AuditRef, Decision, Report};
use crate::error::{Error, ErrorKind, Result};
use crate::notify::NotifyConfig;
use crate::policy::bundle::{Bundle, BundleFile, FileKind};
use crate::policy::Gate;

/// Store connections for the blocking threads: taken for one operation, given back after
/// it when it went well (a failed one may have left the connection broken).
pub struct Stores {
    address: Address,
    idle: Mutex<Vec<Box<dyn Store>>>,
    keep: usize,
    /// Signs every entry appended through these stores.
    key: Arc<SigningKey>,
}

impl Stores {
    pub fn new(address: Address, keep: usize, key: Arc<SigningKey>) -> Stores {
        Stores { address, idle: Mutex::new(Vec::new()), keep, key }
    }

    /// Runs `work` with a store, whose every appended entry the server signs.
    pub fn with<T>(
        &self,
        work: impl FnOnce(&mut dyn Store) -> std::result::Result<T, ApiError>,
    ) -> std::result::Result<T, ApiError> {
        let idle = self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop();
        let mut store = match idle {
            Some(store) => store,
            None => audit::open(&self.address, Access::ReadWrite)?,
        };
        let result = work(&mut audit::checkpoint::Signed { store: store.as_mut(), key: &self.key });
        let healthy = match &result {
            Ok(_) => true,
            Err(error) => error.status < 500,
        };
        if healthy {
            let mut idle = self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if idle.len() < self.keep {
                idle.push(store);
            }
        }
        result
    }
}

/// The server's state shared by every request.
pub struct Service {
    pub config: ServerConfig,
    pub key: Arc<SigningKey>,
    pub stores: Stores,
    pub notifiers: Option<NotifyConfig>,
    /// Compiled bundles by digest: idle copies for concurrent evaluations.
    gates: Mutex<HashMap<String, Vec<Gate>>>,
    /// Turns to work on a request: more threads than cores only thrash.
    pub turns: Arc<tokio::sync::Semaphore>,
    pub metrics: super::metrics::Metrics,
    /// The dashboard's open sessions.
    pub sessions: super::ui::Sessions,
    /// The dashboard's last full chain verification.
    pub verifications: super::ui::Verifications,
}

/// A file of a bundle being published.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedFile {
    pub path: String,
    pub contents: String,
}

/// `POST /v1/bundles`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// The bundle digest the publisher computed; the server's must be the same.
    pub digest: String,
    /// The git commit of the policy repository.
    #[serde(default)]
    pub revision: Option<String>,
    pub files: Vec<PublishedFile>,
}

/// `POST /v1/bundles/{digest}/activate`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivateRequest {
    pub environment: String,
    /// Judge the fleet, record nothing: the impact to review before activating.
    #[serde(default)]
    pub dry_run: bool,
    /// `text`, `markdown` or `json`: the form of the re-evaluation report.
    #[serde(default)]
    pub format: Option<String>,
}

/// `POST /v1/decisions`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    pub evidence: Value,
    /// The model artifact the decision is about; without it nothing is attested.
    #[serde(default)]
    pub subject: Option<Subject>,
}

/// `POST /v1/deployments`: the deploy step, by a decision the server made.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployRequest {
    pub model: String,
    pub version: String,
    pub environment: String,
    /// The decision to deploy by; default: the latest for the model, version and environment.
    #[serde(default)]
    pub decision_id: Option<String>,
    /// The digest of the deployed artifact's evidence (the report's `evidence_digest`).
    pub evidence_digest: String,
}

/// `POST /v1/deployments/retire`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetireRequest {
    pub model: String,
    pub environment: String,
    #[serde(default)]
    pub reason: Option<String>,
}

/// `GET /v1/audit/{question}`: an auditor's question (`log`, `show`, `at`, `verify`), its
/// parameters as the command line names them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// `text` or `json` (default).
    pub format: Option<String>,
    pub model: Option<String>,
    pub version: Option<String>,
    pub environment: Option<String>,
    pub decision: Option<String>,
    /// Comma-separated entry kinds.
    pub kinds: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub limit: Option<usize>,
    /// `show`: the entry.
    pub id: Option<String>,
    pub brief: Option<bool>,
    pub replay: Option<bool>,
    /// `at`: the moment (default now).
    pub time: Option<String>,
    /// `verify`: comma-separated `SEQ:sha256:…` anchors.
    pub anchors: Option<String>,
    /// `export`: `jsonl`, `csv` or `opa` (OPA decision-log events).
    pub export: Option<String>,
    /// `export`: leave the evidence out of OPA events.
    pub no_input: Option<bool>,
}

/// `POST /v1/tokens`: what `modelgate server token create` asks for.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub name: String,
    pub role: String,
    #[serde(default)]
    pub models: Vec<String>,
    #[serde(default)]
    pub environments: Vec<String>,
    /// A duration from now (`90d`) or a date / RFC 3339 time; none never expires.
    #[serde(default)]
    pub expires: Option<String>,
}

/// What a decision returns: the report as the CLI prints it, and the signed attestation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DecisionResponse {
    pub report: Report,
    pub attestation: Option<Value>,
    /// Why there is no attestation, when there is none.
    pub attestation_missing: Option<String>,
    /// The evidence submitted, kept by the client for its HTML report (never sent back).
    #[serde(skip)]
    pub evidence: Option<Arc<crate::evidence::Evidence>>,
}

impl Service {
    pub fn new(config: ServerConfig, key: SigningKey, notifiers: Option<NotifyConfig>) -> Result<Service> {
        let address = Address::parse(&config.store)?;
        let keep = config.store_connections;
        let turns = Arc::new(tokio::sync::Semaphore::new(config.concurrent_requests));
        let key = Arc::new(key);
        Ok(Service {
            config,
            stores: Stores::new(address, keep, key.clone()),
            key,
            notifiers,
            gates: Mutex::new(HashMap::new()),
            turns,
            metrics: super::metrics::Metrics::default(),
            sessions: super::ui::Sessions::default(),
            verifications: super::ui::Verifications::default(),
        })
    }

    // ------------------------------------------------------------ bundles

    /// Checks and keeps a bundle: paths, digest, its own tests, the load-time checks. A
    /// bundle published before is answered with its first publication.
    pub fn publish(
        &self,
        store: &mut dyn Store,
        caller: &Caller,
        request: PublishRequest,
    ) -> std::result::Result<Value, ApiError> {
        let mut files = Vec::with_capacity(request.files.len());
        let mut seen = std::collections::BTreeSet::new();
        for file in request.files {
            let kind = FileKind::of(&file.path).filter(|_| safe_path(&file.path)).ok_or_else(|| {
                ApiError::invalid(
                    format!("`{}` is not a policy file a bundle may hold", file.path),
                    "send relative paths without `..` of .rego, data.yaml/json, exceptions.yaml and data.schema.json files",
                )
            })?;
            if !seen.insert(file.path.clone()) {
                return Err(ApiError::invalid(format!("`{}` is sent twice", file.path), "send each file once"));
            }
            files.push(BundleFile { path: file.path, contents: file.contents, kind });
        }
        let bundle = Bundle::from_files(&self.bundle_label(), request.revision.clone(), files);
        if bundle.info.digest != request.digest {
            return Err(ApiError::invalid(
                format!("the files sent have digest {}, not {}", bundle.info.digest, request.digest),
                "publish with `modelgate policy publish DIR`, which sends every file the digest covers",
            ));
        }
        if let Some(existing) = publication(store, &bundle.info.digest)? {
            return Ok(json!({"digest": bundle.info.digest, "published": false, "entry": entry_ref(&existing)}));
        }
        let timeout = self.config.evaluation_timeout;
        let tests = match crate::policy::testing::run_bundle(&bundle, false, timeout) {
            Ok(run) => run,
            Err(error) if error.kind == ErrorKind::PolicyMissing => return Err(ApiError::invalid(
                format!("bundle {} has no policy tests", bundle.info.digest),
                "a published bundle proves itself: add *_test.rego files with test_* rules (`modelgate policy test`)",
            )),
            Err(error) => return Err(ApiError::from_input(error)),
        };
        if tests.failed > 0 || tests.passed == 0 {
            let failing: Vec<String> = tests
                .tests
                .iter()
                .filter(|test| test.message.is_some())
                .map(|test| format!("{}.{} ({}:{})", test.package, test.name, test.file, test.line))
                .collect();
            return Err(ApiError::invalid(
                format!(
                    "the bundle's own tests fail: {} failed, {} passed: {}",
                    tests.failed,
                    tests.passed,
                    failing.join(", ")
                ),
                "run `modelgate policy test DIR` and fix the policies or the tests before publishing",
            ));
        }
        let gate = Gate::from_bundle(bundle, timeout).map_err(ApiError::from_input)?;
        let environments = gate.data().environments.clone();
        let (manifest, blobs) = record::bundle_content(&gate.bundle.digest, &gate.files);
        let mut entry = Entry::new(EntryKind::Publish, "", "", None);
        entry.requester = Some(caller.identity());
        entry.bundle_digest = Some(gate.bundle.digest.clone());
        entry.bundle_revision = request.revision;
        entry.details = json!({
            "files": gate.files.len(),
            "environments": environments,
            "tests": {"passed": tests.passed, "failed": tests.failed, "skipped": tests.skipped},
        });
        let record = store.append(vec![Draft { entry, blobs, bundle: Some(manifest) }])?.remove(0);
        let digest = gate.bundle.digest.clone();
        self.give_back(gate);
        Ok(json!({
            "digest": digest,
            "published": true,
            "environments": environments,
            "tests": {"passed": tests.passed, "failed": tests.failed, "skipped": tests.skipped},
            "entry": entry_ref(&record.entry),
        }))
    }

    /// Every published bundle, newest first, and the bundle active in each environment.
    pub fn bundles(&self, store: &dyn Store) -> std::result::Result<Value, ApiError> {
        bundle_listing(store)
    }

    /// Makes a published bundle the one in force for an environment, then judges every model
    /// deployed there under it, records each judgement and alerts the owners of those that
    /// no longer comply. With `dry_run`, only the judging: the impact to review.
    pub fn activate(
        &self,
        store: &mut dyn Store,
        caller: &Caller,
        digest: &str,
        request: ActivateRequest,
    ) -> std::result::Result<Value, ApiError> {
        let format = match request.format.as_deref().unwrap_or("json") {
            "text" => crate::run::lifecycle::Format::Text,
            "markdown" => crate::run::lifecycle::Format::Markdown,
            "json" => crate::run::lifecycle::Format::Json,
            other => {
                return Err(ApiError::invalid(
                    format!("format `{other}` is not text, markdown or json"),
                    "ask for text, markdown or json",
                ))
            }
        };
        let Some(published) = publication(store, digest)? else {
            return Err(ApiError::not_found(
                format!("no bundle {digest} was published"),
                "publish it first with `modelgate policy publish DIR --server URL`",
            ));
        };
        let gate = self.gate(store, digest)?;
        let result = (|| {
            let environment = request.environment.as_str();
            if !gate.data().environments.iter().any(|name| name == environment) {
                return Err(ApiError::invalid(
                    format!(
                        "bundle {digest} does not declare environment `{environment}` (it declares {:?})",
                        gate.data().environments
                    ),
                    "activate it for an environment its data.yaml lists, or add the environment there",
                ));
            }
            let previous = active_entry(store, environment)?;
            let previous_digest = previous.as_ref().and_then(|entry| entry.bundle_digest.clone());
            let mut activation = None;
            if !request.dry_run {
                let mut entry = Entry::new(EntryKind::Activate, "", "", Some(environment));
                entry.requester = Some(caller.identity());
                entry.bundle_digest = Some(digest.to_string());
                entry.bundle_revision = published.bundle_revision.clone();
                entry.details = json!({"previous": previous_digest, "publication": published.id});
                let record = store.append(vec![Draft { entry, blobs: Vec::new(), bundle: None }])?.remove(0);
                activation = Some(record.entry);
                self.checkpoint(store)?;
            }
            let fleet = crate::run::lifecycle::Fleet {
                gate: &gate,
                environment: Some(environment),
                format,
                now: chrono::Utc::now(),
            };
            let recording = (!request.dry_run).then_some(self.notifiers.as_ref());
            let mut report = Vec::new();
            let outcome = match crate::run::lifecycle::judge_fleet(&fleet, store, recording, &mut report) {
                Ok(outcome) => outcome,
                // In force already: say so, with what failed after.
                Err(error) if activation.is_some() => {
                    return Ok(json!({
                        "digest": digest,
                        "environment": environment,
                        "previous": previous_digest,
                        "activated": true,
                        "entry": activation.as_ref().map(entry_ref),
                        "status": 2,
                        "report": format!("activated, but the re-evaluation failed: {}\n", error.message),
                    }))
                }
                Err(error) => return Err(error.into()),
            };
            Ok(json!({
                "digest": digest,
                "environment": environment,
                "previous": previous_digest,
                "activated": activation.is_some(),
                "entry": activation.as_ref().map(entry_ref),
                "summary": outcome.summary,
                "failed_deliveries": outcome.failed_deliveries,
                "status": outcome.status.code(),
                "report": String::from_utf8_lossy(&report),
            }))
        })();
        self.give_back(gate);
        result
    }

    // ------------------------------------------------------------ decisions

    /// Judges a pipeline's evidence under the bundle active for its environment, records the
    /// decision with the caller as requester, and signs it. Acknowledged only when recorded.
    pub fn decide(
        &self,
        store: &mut dyn Store,
        caller: &Caller,
        request: DecisionRequest,
    ) -> std::result::Result<DecisionResponse, ApiError> {
        let text = serde_json::to_string(&request.evidence).unwrap_or_default();
        let evidence = crate::evidence::parse("the submitted evidence", &text).map_err(ApiError::from_input)?;
        let Some(environment) = evidence.deployment.as_ref().map(|deployment| deployment.environment.clone()) else {
            return Err(ApiError::invalid(
                "the evidence names no deployment environment",
                "set [deployment] environment in modelgate.toml or pass --environment",
            ));
        };
        caller.require_scope(&evidence.model.name, &environment)?;
        if let Some(subject) = &request.subject {
            let hex = subject.digest.strip_prefix("sha256:").unwrap_or_default();
            if hex.len() != 64 || !hex.bytes().all(|byte| byte.is_ascii_hexdigit()) || subject.name.len() > 1024 {
                return Err(ApiError::invalid(
                    format!("the subject digest `{}` is not sha256: and 64 hex digits", subject.digest),
                    "`modelgate check --server` computes it from [artifacts] model",
                ));
            }
        }
        let Some(active) = active_entry(store, &environment)? else {
            let mut active = Vec::new();
            for name in store.environments()? {
                if active_entry(store, &name)?.is_some() {
                    active.push(name);
                }
            }
            let guess = crate::suggest::nearest(&environment, active.iter().map(String::as_str))
                .map(|name| format!("did you mean `{name}`? "))
                .unwrap_or_default();
            return Err(ApiError::conflict(
                format!(
                    "no policy bundle is active for environment `{environment}` (bundles are active for {})",
                    crate::suggest::list(&active.iter().map(String::as_str).collect::<Vec<_>>())
                ),
                format!("{guess}a governance token activates a bundle: `modelgate policy activate DIGEST --environment ENV --server URL`"),
            ));
        };
        let digest = active.bundle_digest.clone().unwrap_or_default();
        let mut gate = self.gate(store, &digest)?;
        let evaluating = std::time::Instant::now();
        let mut report = gate.report(&evidence, Some("modelgate server".into()));
        let evaluation = evaluating.elapsed();
        self.give_back(gate);
        let mut details = Map::new();
        details.insert("server".into(), json!(self.config.verifier_id));
        details.insert("token".into(), json!(caller.token.id));
        details.insert("activation".into(), json!(active.id));
        if let Some(subject) = &request.subject {
            details.insert("subject".into(), json!(subject));
        }
        let mut draft = decision_draft(EntryKind::Decision, &report, Some(&evidence), None, details)?;
        draft.entry.requester = Some(caller.identity());
        let recording = std::time::Instant::now();
        let record = store.append(vec![draft])?.remove(0);
        self.metrics.decided(report.decision.as_str(), evaluation, recording.elapsed());
        self.checkpoint_if_due(store, record.entry.seq);
        // The store is named by the server that keeps it: its database's address is not the
        // pipeline's business.
        let kept_by = self.config.verifier_id.clone();
        report.audit = Some(AuditRef { store: kept_by, seq: record.entry.seq, hash: record.hash.clone() });
        let (attestation, attestation_missing) = match (&request.subject, report.decision) {
            (None, _) => {
                (None, Some("the request named no model artifact (no [artifacts] model in modelgate.toml)".to_string()))
            }
            (Some(_), Decision::Error) => (None, Some("an error is not attested".to_string())),
            (Some(subject), _) => {
                let claim = attestation::Claim {
                    verifier: &self.config.verifier_id,
                    report: &report,
                    subject,
                    audit: (record.entry.seq, &record.hash),
                    requester: &caller.identity(),
                };
                let statement = attestation::statement(&claim)?;
                (Some(attestation::sign(&statement, &self.key)), None)
            }
        };
        Ok(DecisionResponse { report, attestation, attestation_missing, evidence: None })
    }

    // ------------------------------------------------------------ deployments

    /// Records a deployment by an `allow` decision the server made under the bundle active
    /// for the environment, on this artifact's evidence; the caller is the requester. A
    /// refusal is `{"status": "refused", "reason", "hint"}` (HTTP 200: the request was
    /// understood and judged).
    pub fn deploy(
        &self,
        store: &mut dyn Store,
        caller: &Caller,
        request: DeployRequest,
    ) -> std::result::Result<Value, ApiError> {
        caller.require_scope(&request.model, &request.environment)?;
        let Some(active) = active_entry(store, &request.environment)? else {
            return Err(ApiError::conflict(
                format!("no policy bundle is active for environment `{}`", request.environment),
                "a governance token activates one; nothing can be deployed there before",
            ));
        };
        if let Some(id) = &request.decision_id {
            if store.get(id)?.is_none() {
                return Err(ApiError::not_found(
                    format!("no decision {id}"),
                    "deploy by the decision_id `check --server` returned",
                ));
            }
        }
        let key = self.key.verifying_key();
        let deploy_request = audit::deploy::Request {
            model: &request.model,
            version: &request.version,
            environment: &request.environment,
            decision_id: request.decision_id.as_deref(),
            evidence_digest: &request.evidence_digest,
            bundle_digest: active.bundle_digest.as_deref().unwrap_or_default(),
            requester: Some(caller.identity()),
            server_key: Some(&key),
        };
        let outcome = audit::deploy::record(store, &deploy_request).map_err(ApiError::from_input)?;
        Ok(deployment_answer(outcome))
    }

    /// Ends a deployment; the caller is the requester.
    pub fn retire(
        &self,
        store: &mut dyn Store,
        caller: &Caller,
        request: RetireRequest,
    ) -> std::result::Result<Value, ApiError> {
        caller.require_scope(&request.model, &request.environment)?;
        let outcome = audit::deploy::retire(
            store,
            &request.model,
            &request.environment,
            Some(caller.identity()),
            request.reason.as_deref(),
        )?;
        Ok(deployment_answer(outcome))
    }

    // ------------------------------------------------------------ auditors

    /// Answers an auditor's question with the `audit` command's own output.
    pub fn audit(&self, store: &dyn Store, question: &str, query: AuditQuery) -> std::result::Result<Value, ApiError> {
        use crate::run::audit as answer;
        if question == "export" {
            return self.export(store, &query);
        }
        if question == "show" && query.format.as_deref() == Some("html") {
            let id = query.id.as_deref().ok_or_else(|| ApiError::invalid("`show` needs id=", "pass the entry's id"))?;
            if store.get(id)?.is_none() {
                return Err(ApiError::not_found(format!("no entry {id}"), "`audit log` lists entries and their ids"));
            }
            let mut out = Vec::new();
            let status = answer::show_html_in(store, id, query.replay.unwrap_or(false), &mut out)
                .map_err(ApiError::from_input)?;
            return Ok(json!({"status": status.code(), "output": String::from_utf8_lossy(&out)}));
        }
        let format = match query.format.as_deref().unwrap_or("json") {
            "json" => crate::run::Format::Json,
            "text" => crate::run::Format::Text,
            other => {
                return Err(ApiError::invalid(format!("format `{other}` is not text or json"), "ask for text or json"))
            }
        };
        let filter = filter_of(&query)?;
        let mut out = Vec::new();
        let status = match question {
            "log" => answer::log_in(store, &filter, query.limit.unwrap_or(50), format, &mut out),
            "show" => {
                let id =
                    query.id.as_deref().ok_or_else(|| ApiError::invalid("`show` needs id=", "pass the entry's id"))?;
                if store.get(id)?.is_none() {
                    return Err(ApiError::not_found(
                        format!("no entry {id}"),
                        "`audit log` lists entries and their ids",
                    ));
                }
                answer::show_in(
                    store,
                    id,
                    query.brief.unwrap_or(false),
                    query.replay.unwrap_or(false),
                    format,
                    &mut out,
                )
            }
            "at" => answer::at_in(
                store,
                query.environment.as_deref(),
                query.time.as_deref(),
                query.model.as_deref(),
                format,
                &mut out,
            ),
            "verify" => {
                let anchors: Vec<String> = query
                    .anchors
                    .iter()
                    .flat_map(|text| text.split(','))
                    .map(|anchor| anchor.trim().to_string())
                    .collect();
                let key = self.key.verifying_key();
                answer::parse_anchors(&anchors)
                    .and_then(|anchors| answer::verify_in(store, &anchors, Some(&key), format, &mut out))
            }
            other => {
                return Err(ApiError::not_found(format!("no audit question `{other}`"), "ask log, show, at or verify"))
            }
        }
        .map_err(ApiError::from_input)?;
        let text = String::from_utf8_lossy(&out).into_owned();
        Ok(match format {
            crate::run::Format::Json => json!({
                "status": status.code(),
                "format": "json",
                "result": serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text)),
            }),
            crate::run::Format::Text => json!({"status": status.code(), "format": "text", "output": text}),
        })
    }

    /// `audit export`: the entries as JSON Lines, CSV or OPA decision-log events, in the
    /// answer's `output` (the whole export: narrow it with the filter on a large store).
    fn export(&self, store: &dyn Store, query: &AuditQuery) -> std::result::Result<Value, ApiError> {
        use crate::audit::export::ExportFormat;
        let format = match query.export.as_deref().unwrap_or("jsonl") {
            "jsonl" => ExportFormat::Jsonl,
            "csv" => ExportFormat::Csv,
            "opa" => ExportFormat::Opa,
            other => {
                return Err(ApiError::invalid(
                    format!("export `{other}` is not jsonl, csv or opa"),
                    "ask export=jsonl, csv or opa",
                ))
            }
        };
        let filter = filter_of(query)?;
        let mut out = Vec::new();
        let written = crate::run::audit::export_in(store, &filter, format, !query.no_input.unwrap_or(false), &mut out)
            .map_err(ApiError::from_input)?;
        Ok(
            json!({"status": 0, "format": query.export.as_deref().unwrap_or("jsonl"), "entries": written, "output": String::from_utf8_lossy(&out)}),
        )
    }

    // ------------------------------------------------------------ tokens

    /// Creates a token; its secret is in the answer, once.
    pub fn create_token(&self, store: &mut dyn Store, request: TokenRequest) -> std::result::Result<Value, ApiError> {
        let role = super::auth::Role::parse(&request.role).ok_or_else(|| {
            ApiError::invalid(
                format!("role `{}` is not pipeline, governance, auditor or admin", request.role),
                "name one of the four roles",
            )
        })?;
        let expires = request.expires.as_deref().map(super::auth::expiry).transpose().map_err(ApiError::from_input)?;
        let new = super::auth::NewToken {
            name: &request.name,
            role,
            models: request.models,
            environments: request.environments,
            expires,
        };
        let (token, secret) = super::auth::create(store, &new).map_err(ApiError::from_input)?;
        let mut answer = serde_json::to_value(&token).unwrap_or(Value::Null);
        answer["token"] = json!(secret);
        Ok(answer)
    }

    /// Revokes a token: every request with it is refused from now on.
    pub fn revoke_token(&self, store: &mut dyn Store, id: &str) -> std::result::Result<Value, ApiError> {
        if store.revoke_token(id, &audit::now())? {
            Ok(json!({"id": id, "revoked": true}))
        } else {
            Err(ApiError::not_found(
                format!("no token {id} to revoke (unknown, or revoked already)"),
                "GET /v1/tokens lists them",
            ))
        }
    }

    // ------------------------------------------------------------ checkpoints

    /// Signs the chain's head and appends the checkpoint.
    pub fn checkpoint(&self, store: &mut dyn Store) -> Result<()> {
        if let Some(draft) = audit::checkpoint::draft(store, &self.key)? {
            store.append(vec![draft])?;
        }
        Ok(())
    }

    /// A checkpoint when `checkpoint_every` entries came since the last (up to `head`, the
    /// entry just appended). A failure is told on standard error and tried again after the
    /// next decision: the decision itself is recorded already.
    fn checkpoint_if_due(&self, store: &mut dyn Store, head: u64) {
        let latest = audit::checkpoint::latest(store).map(|latest| latest.map_or(0, |entry| entry.seq));
        let due = latest.map(|latest| head.saturating_sub(latest) >= self.config.checkpoint_every);
        if let Err(error) = due.and_then(|due| if due { self.checkpoint(store) } else { Ok(()) }) {
            eprintln!("warning: no checkpoint signed: {}", error.message);
        }
    }

    // ------------------------------------------------------------ compiled bundles

    /// A compiled copy of bundle `digest`: an idle one, a clone, or compiled from the store.
    fn gate(&self, store: &dyn Store, digest: &str) -> std::result::Result<Gate, ApiError> {
        {
            let mut gates = self.gates.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(idle) = gates.get_mut(digest) {
                // The last idle copy stays, as the template of the next clones.
                if idle.len() > 1 {
                    if let Some(gate) = idle.pop() {
                        return Ok(gate);
                    }
                }
                if let Some(first) = idle.first() {
                    return Ok(first.clone());
                }
            }
        }
        let (manifest, files) = record::stored_bundle(store, digest)?;
        let revision = publication(store, digest)?.and_then(|entry| entry.bundle_revision);
        let bundle = Bundle::from_files(&self.bundle_label(), revision, files);
        if bundle.info.digest != manifest.digest {
            return Err(ApiError::from(
                Error::new(ErrorKind::Store, format!("the stored bundle {digest} hashes to {}", bundle.info.digest))
                    .hint("the store has been altered: run `modelgate audit verify`"),
            ));
        }
        let gate = Gate::from_bundle(bundle, self.config.evaluation_timeout)?;
        Ok(gate)
    }

    fn give_back(&self, gate: Gate) {
        let mut gates = self.gates.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let idle = gates.entry(gate.bundle.digest.clone()).or_default();
        // As many copies as requests can be in flight with a store each: none is cloned
        // once the server is warm.
        if idle.len() < self.config.store_connections {
            idle.push(gate);
        }
    }

    fn bundle_label(&self) -> String {
        format!("modelgate server {}", self.config.verifier_id)
    }
}

/// The entries an auditor's query names.
fn filter_of(query: &AuditQuery) -> std::result::Result<crate::run::audit::FilterRequest<'_>, ApiError> {
    let kinds = match &query.kinds {
        Some(text) => text
            .split(',')
            .map(|kind| {
                EntryKind::parse(kind.trim()).ok_or_else(|| {
                    ApiError::invalid(
                        format!("`{kind}` is not an entry kind"),
                        "kinds are decision, reevaluation, deploy, retire, alert, publish, activate, checkpoint",
                    )
                })
            })
            .collect::<std::result::Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    Ok(crate::run::audit::FilterRequest {
        kinds,
        model: query.model.as_deref(),
        version: query.version.as_deref(),
        environment: query.environment.as_deref(),
        decision: query.decision.as_deref(),
        since: query.since.as_deref(),
        until: query.until.as_deref(),
    })
}

/// A relative `/`-separated path without `.`/`..` components or anything odd.
fn safe_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 1024
        && !path.starts_with('/')
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
        && path.split('/').all(|part| !part.is_empty() && part != "." && part != "..")
}

fn deployment_answer(outcome: std::result::Result<audit::Record, audit::deploy::Refusal>) -> Value {
    match outcome {
        Ok(record) => {
            json!({"status": "recorded", "seq": record.entry.seq, "hash": record.hash, "entry": record.entry})
        }
        Err(refusal) => json!({"status": "refused", "reason": refusal.reason, "hint": refusal.hint}),
    }
}

fn entry_ref(entry: &Entry) -> Value {
    json!({"id": entry.id, "seq": entry.seq, "time": entry.time})
}

/// The first publication of bundle `digest`.
pub fn publication(store: &dyn Store, digest: &str) -> Result<Option<Entry>> {
    let mut found = None;
    store.scan(&Filter { kinds: vec![EntryKind::Publish], ..Filter::default() }, &mut |record| {
        if record.entry.bundle_digest.as_deref() == Some(digest) {
            found = Some(record.entry);
            return Ok(false);
        }
        Ok(true)
    })?;
    Ok(found)
}

/// The activation in force for `environment`: the last in the chain (by position, not by
/// the clocks of the replicas that wrote them). Activations are few.
pub fn active_entry(store: &dyn Store, environment: &str) -> Result<Option<Entry>> {
    let filter =
        Filter { kinds: vec![EntryKind::Activate], environment: Some(environment.to_string()), ..Filter::default() };
    let mut last = None;
    store.scan(&filter, &mut |record| {
        last = Some(record.entry);
        Ok(true)
    })?;
    Ok(last)
}

/// Every published bundle, newest first, and the bundle active in each environment (what
/// `GET /v1/bundles` answers and the dashboard's bundles page shows).
pub fn bundle_listing(store: &dyn Store) -> std::result::Result<Value, ApiError> {
    let mut published = Vec::new();
    let filter = Filter { kinds: vec![EntryKind::Publish], newest_first: true, ..Filter::default() };
    store.scan(&filter, &mut |record| {
        let entry = record.entry;
        published.push(json!({
            "digest": entry.bundle_digest,
            "revision": entry.bundle_revision,
            "published_at": entry.time,
            "published_by": entry.requester,
            "environments": entry.detail("environments"),
            "tests": entry.detail("tests"),
            "entry": entry_ref(&entry),
        }));
        Ok(true)
    })?;
    let mut active = Map::new();
    for environment in store.environments()? {
        if let Some(entry) = active_entry(store, &environment)? {
            active.insert(environment, json!({"digest": entry.bundle_digest, "revision": entry.bundle_revision, "activated_at": entry.time, "activated_by": entry.requester}));
        }
    }
    Ok(json!({"bundles": published, "active": active}))
}
