//! `modelgate sign key|certificate` and `modelgate verify key|certificate`: model
//! signatures in the OpenSSF model_signing format, with its command line (`--private_key`
//! and `--private-key` alike).

use std::path::PathBuf;

use clap::{Args, Subcommand};

use modelgate::artifacts::signing::certificates::{self, TrustAnchors};
use modelgate::artifacts::signing::keys::{SigningKey, VerifyingKey};
use modelgate::artifacts::signing::{self, Material, SignOptions, Trust, VerifyOptions};
use modelgate::error::Result;
use modelgate::exit::ExitStatus;
use modelgate::report::sections;

#[derive(Debug, Subcommand)]
pub enum SignCommand {
    /// Sign with an ECDSA private key (P-256 or P-384, PEM), as `model_signing sign key`.
    Key(SignArgs),
    /// Sign with a key and its certificate, carrying the chain, as `model_signing sign certificate`.
    Certificate {
        #[command(flatten)]
        args: SignArgs,
        /// The signing certificate (PEM), whose key is the private key.
        #[arg(long = "signing-certificate", alias = "signing_certificate", value_name = "CERT.pem")]
        signing_certificate: PathBuf,
        /// Certificates above the signing certificate (PEM), carried in the bundle.
        #[arg(long = "certificate-chain", alias = "certificate_chain", value_name = "CHAIN.pem")]
        certificate_chain: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum VerifyCommand {
    /// Verify with the signer's public key (PEM), as `model_signing verify key`.
    Key {
        #[command(flatten)]
        args: VerifyArgs,
        /// The signer's public key (SubjectPublicKeyInfo PEM).
        #[arg(long = "public-key", alias = "public_key", value_name = "KEY.pub")]
        public_key: PathBuf,
    },
    /// Verify a certificate-signed model against the CA certificates to trust, as
    /// `model_signing verify certificate`.
    Certificate {
        #[command(flatten)]
        args: VerifyArgs,
        /// CA certificates (PEM) that the signing certificate's chain must lead to.
        #[arg(long = "certificate-chain", alias = "certificate_chain", value_name = "CA.pem", required = true)]
        certificate_chain: Vec<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct SignArgs {
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
pub struct VerifyArgs {
    /// The model folder.
    model: PathBuf,
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
    let result = (|| -> Result<bool> {
        let (args, material) = match &command {
            SignCommand::Key(args) => (args, Material::Key),
            SignCommand::Certificate { args, signing_certificate, certificate_chain } => {
                (args, Material::Certificates(certificates::signing_chain(signing_certificate, certificate_chain)?))
            }
        };
        let key = SigningKey::read(&args.private_key)?;
        if let Material::Certificates(chain) = &material {
            certificates::check_signing_key(chain, &key, &args.private_key)?;
        }
        let signature = args.signature.clone().unwrap_or_else(|| signing::default_signature(&args.model));
        let options = SignOptions {
            shard_size: args.shard_size,
            ignore_paths: args.ignore_paths.clone(),
            ignore_git_paths: !args.no_ignore_git_paths,
            allow_symlinks: args.allow_symlinks,
        };
        let signed = signing::sign(&args.model, &key, &material, &signature, &options)?;
        args.output.write(&signed, |signed, out| {
            write!(
                out,
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
    let result = (|| -> Result<bool> {
        let (args, trust) = match &command {
            VerifyCommand::Key { args, public_key } => (args, Trust::Key(VerifyingKey::read(public_key)?)),
            VerifyCommand::Certificate { args, certificate_chain } => {
                (args, Trust::Certificates(TrustAnchors::read(certificate_chain)?))
            }
        };
        let signature = args.signature.clone().unwrap_or_else(|| signing::default_signature(&args.model));
        let options = VerifyOptions { ignore_unsigned_files: args.ignore_unsigned_files, ..VerifyOptions::default() };
        let outcome = signing::verify(&args.model, &signature, &trust, &options)?;
        args.output.write(&outcome, sections::signature::write)?;
        Ok(outcome.verified && outcome.extra_files.is_empty())
    })();
    super::check_status(result)
}
