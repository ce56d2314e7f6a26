//! `modelgate sign key` and `modelgate verify key`: model signatures in the OpenSSF
//! model_signing format, with its command line (`--private_key` and `--private-key` alike).

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use modelgate::artifacts::signing::keys::{SigningKey, VerifyingKey};
use modelgate::artifacts::signing::{self, SignOptions, Trust, Verification, VerifyOptions};
use modelgate::error::Result;
use modelgate::exit::ExitStatus;

#[derive(Debug, Subcommand)]
pub enum SignCommand {
    /// Sign with an ECDSA private key (P-256 or P-384, PEM), as `model_signing sign key`.
    Key(SignKeyArgs),
}

#[derive(Debug, Subcommand)]
pub enum VerifyCommand {
    /// Verify with the signer's public key (PEM), as `model_signing verify key`.
    Key(VerifyKeyArgs),
}

#[derive(Debug, Args)]
pub struct SignKeyArgs {
    /// The model folder.
    model: PathBuf,
    /// The private key (PKCS#8 or SEC1 PEM, not encrypted).
    #[arg(long = "private-key", alias = "private_key", value_name = "KEY.pem")]
    private_key: PathBuf,
    /// Where to write the signature [default: MODEL/model.sig].
    #[arg(long, value_name = "PATH")]
    signature: Option<PathBuf>,
    /// Paths (relative to the model folder) the signature does not cover.
    #[arg(long = "ignore-paths", alias = "ignore_paths", value_name = "PATH")]
    ignore_paths: Vec<String>,
    /// Cover the git files too (.git, .gitattributes, .github, .gitignore).
    #[arg(long = "no-ignore-git-paths")]
    no_ignore_git_paths: bool,
    /// Sign shards of this many bytes instead of whole files (model_signing's default
    /// shard size is 1000000000).
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..))]
    shard_size: Option<u64>,
    /// Hash links to files inside the model folder as those files (never links out of it).
    #[arg(long = "allow-symlinks", alias = "allow_symlinks")]
    allow_symlinks: bool,
    #[command(flatten)]
    output: super::SectionOutput,
}

#[derive(Debug, Args)]
pub struct VerifyKeyArgs {
    /// The model folder.
    model: PathBuf,
    /// The signer's public key (SubjectPublicKeyInfo PEM).
    #[arg(long = "public-key", alias = "public_key", value_name = "KEY.pub")]
    public_key: PathBuf,
    /// The signature to verify [default: MODEL/model.sig].
    #[arg(long, value_name = "PATH")]
    signature: Option<PathBuf>,
    /// Files in the folder that the signature does not list are not a failure.
    #[arg(long = "ignore-unsigned-files", alias = "ignore_unsigned_files")]
    ignore_unsigned_files: bool,
    #[command(flatten)]
    output: super::SectionOutput,
}

pub fn sign(command: SignCommand) -> ExitStatus {
    let SignCommand::Key(args) = command;
    let result = (|| -> Result<bool> {
        let key = SigningKey::read(&args.private_key)?;
        let signature = args.signature.clone().unwrap_or_else(|| signing::default_signature(&args.model));
        let options = SignOptions {
            shard_size: args.shard_size,
            ignore_paths: args.ignore_paths.clone(),
            ignore_git_paths: !args.no_ignore_git_paths,
            allow_symlinks: args.allow_symlinks,
        };
        let signed = signing::sign(&args.model, &key, &signature, &options)?;
        args.output.write(&signed, |signed| {
            format!(
                "signed {} files ({} {}) of {} with {} key sha256:{}\nsignature: {}\n",
                signed.files,
                signed.items,
                if signed.method == "shards" { "shards" } else { "items" },
                args.model.display(),
                signed.curve,
                signed.key_fingerprint,
                signed.signature
            )
        })?;
        Ok(true)
    })();
    super::check_status(result)
}

pub fn verify(command: VerifyCommand) -> ExitStatus {
    let VerifyCommand::Key(args) = command;
    let result = (|| -> Result<bool> {
        let key = VerifyingKey::read(&args.public_key)?;
        let signature = args.signature.clone().unwrap_or_else(|| signing::default_signature(&args.model));
        let options = VerifyOptions { ignore_unsigned_files: args.ignore_unsigned_files };
        let outcome = signing::verify(&args.model, &signature, &Trust::Key(key), &options)?;
        args.output.write(&outcome, render)?;
        Ok(outcome.verified && outcome.extra_files.is_empty())
    })();
    super::check_status(result)
}

fn render(outcome: &Verification) -> String {
    let mut out = String::new();
    let passed = outcome.verified && outcome.extra_files.is_empty();
    let _ = writeln!(
        out,
        "{}  {}",
        if passed { "verified" } else { "NOT VERIFIED" },
        outcome.signer.as_deref().unwrap_or("(unknown signer)")
    );
    let _ = writeln!(out, "signature: {}", outcome.signature);
    if outcome.authentic {
        let _ = writeln!(out, "signed files: {}", outcome.signed_files.len());
    }
    for (label, files) in [
        ("modified since signing", &outcome.modified_files),
        ("missing", &outcome.missing_files),
        ("not covered by the signature", &outcome.extra_files),
    ] {
        for file in files {
            let _ = writeln!(out, "  {label}: {file}");
        }
    }
    if let Some(error) = &outcome.error {
        let _ = writeln!(out, "why: {error}");
    }
    out
}
