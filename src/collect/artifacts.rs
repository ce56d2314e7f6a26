//! The native artifacts collector: the model folder named in modelgate.toml `[artifacts]`,
//! scanned file by file, its signature verified with the release key, and its
//! dependencies matched against an offline advisory database.
//!
//! Paths in the evidence are shown as written in the config (`model/weights.bin`), so that
//! a file's scan verdict, its signature coverage and the policy's messages name it alike.

use std::collections::BTreeSet;
use std::path::Path;

use super::{Collector, Context};
use crate::artifacts::pickle::GlobalsPolicy;
use crate::artifacts::scan::{self, ScanOptions};
use crate::artifacts::signing::certificates::TrustAnchors;
use crate::artifacts::signing::keys::VerifyingKey;
use crate::artifacts::signing::{self, Trust, VerifyOptions};
use crate::artifacts::{audit, lockfiles, osv, ArtifactsConfig, GlobalsSetting, SignatureConfig};
use crate::error::{Error, ErrorKind, Result};
use crate::evidence::{ArtifactFile, Artifacts, Dependencies, Evidence, Signature};

pub struct ModelFiles;

impl Collector for ModelFiles {
    fn name(&self) -> &'static str {
        "artifacts"
    }

    fn collect(&self, context: &Context, evidence: &mut Evidence) -> Result<()> {
        let Some(config) = &context.config.config.artifacts else { return Ok(()) };
        let model = context.config.resolve(&config.model);
        let shown = config.model.display().to_string();
        let policy = match config.globals {
            GlobalsSetting::Allow => GlobalsPolicy::Allow,
            GlobalsSetting::Deny => GlobalsPolicy::Deny,
        };
        let mut files =
            scan::scan_paths(std::slice::from_ref(&model), ScanOptions { policy, ..ScanOptions::default() })?;
        let model_display = model.display().to_string();
        // The scan hashed every file: signature verification reuses those digests.
        let known: signing::manifest::Known = files
            .iter()
            .filter(|file| !file.sha256.is_empty())
            .filter_map(|file| {
                let relative = file.path.strip_prefix(&model_display)?.strip_prefix('/')?;
                Some((relative.to_string(), (file.size, file.sha256.clone())))
            })
            .collect();
        for file in &mut files {
            if let Some(rest) = file.path.strip_prefix(&model_display) {
                file.path = format!("{shown}{rest}");
            }
        }
        let signature = match &config.signature {
            Some(signature) => Some(signature_evidence(context, config, signature, &model, &shown, &mut files, known)?),
            None => {
                mark_unsigned(&mut files);
                None
            }
        };
        let dependencies = match &config.dependencies {
            Some(dependencies) => Some(dependencies_evidence(context, dependencies)?),
            None => None,
        };
        evidence.artifacts = Some(Artifacts { files, signature, dependencies });
        Ok(())
    }
}

fn mark_unsigned(files: &mut [ArtifactFile]) {
    for file in files {
        file.signed = Some(false);
    }
}

/// The signature of the model folder: absent (every file unsigned), or verified with the
/// configured key, with every file outside the manifest, changed or missing named.
fn signature_evidence(
    context: &Context,
    config: &ArtifactsConfig,
    signature: &SignatureConfig,
    model: &Path,
    shown: &str,
    files: &mut [ArtifactFile],
    known: signing::manifest::Known,
) -> Result<Signature> {
    let path = match &signature.path {
        Some(path) => context.config.resolve(path),
        None => signing::default_signature(model),
    };
    let path_shown = match &signature.path {
        Some(path) => path.display().to_string(),
        None => format!("{}/{}", config.model.display(), signing::DEFAULT_SIGNATURE),
    };
    let in_folder = |relative: &str| format!("{shown}/{relative}");
    if !path.exists() {
        mark_unsigned(files);
        return Ok(Signature {
            present: false,
            verified: false,
            method: None,
            signer: None,
            key_fingerprint: None,
            path: Some(path_shown),
            unsigned_files: files.iter().map(|file| file.path.clone()).collect(),
            mismatched_files: Vec::new(),
            missing_files: Vec::new(),
            error: None,
        });
    }
    let trust = match (&signature.public_key, signature.certificate_chain.as_slice()) {
        (Some(key), []) => Trust::Key(VerifyingKey::read(&context.config.resolve(key))?),
        (None, chain) if !chain.is_empty() => {
            let chain: Vec<_> = chain.iter().map(|path| context.config.resolve(path)).collect();
            Trust::Certificates(TrustAnchors::read(&chain)?)
        }
        _ => {
            return Err(Error::new(
                ErrorKind::Config,
                format!("{}: [artifacts.signature] needs one of public_key and certificate_chain", context.config.path.display()),
            )
            .hint("public_key = \"keys/release.pub\" for key signatures, certificate_chain = [\"ca.pem\"] for certificate signatures"))
        }
    };
    let outcome = signing::verify(model, &path, &trust, &VerifyOptions { known, ..VerifyOptions::default() })?;
    let covered: BTreeSet<String> = if outcome.authentic {
        let modified: BTreeSet<&String> = outcome.modified_files.iter().collect();
        outcome.signed_files.iter().filter(|file| !modified.contains(file)).map(|file| in_folder(file)).collect()
    } else {
        BTreeSet::new()
    };
    // The signature file itself, when it lies in the model folder, is not a file to cover.
    let own = path.canonicalize().ok();
    let is_signature =
        |file: &ArtifactFile| own.is_some() && context.config.resolve(Path::new(&file.path)).canonicalize().ok() == own;
    for file in files.iter_mut() {
        file.signed = (!is_signature(file)).then(|| covered.contains(&file.path));
    }
    let unsigned_files = if outcome.authentic {
        outcome.extra_files.iter().map(|file| in_folder(file)).collect()
    } else {
        files.iter().filter(|file| !is_signature(file)).map(|file| file.path.clone()).collect()
    };
    Ok(Signature {
        present: true,
        verified: outcome.verified,
        method: outcome.method,
        signer: outcome.signer,
        key_fingerprint: outcome.key_fingerprint,
        path: Some(path_shown),
        unsigned_files,
        mismatched_files: outcome.modified_files.iter().map(|file| in_folder(file)).collect(),
        missing_files: outcome.missing_files.iter().map(|file| in_folder(file)).collect(),
        error: outcome.error,
    })
}

/// The dependency file (requirements, lock file, conda environment or MLflow model folder)
/// audited against the advisory database; shown as written in the config.
fn dependencies_evidence(context: &Context, config: &crate::artifacts::DependenciesConfig) -> Result<Dependencies> {
    // The list's names go into the evidence: it must be the project's.
    let path = context.config.resolve(&config.path);
    crate::input::inside(&path, context.config.root(), "a dependency list")?;
    let mut manifest = lockfiles::read_dependencies(&path, context.config.root())?;
    manifest.source = config.path.display().to_string();
    let database = osv::load(&context.config.resolve(&config.osv))?;
    audit::audit_manifest(&manifest, &database)
}
