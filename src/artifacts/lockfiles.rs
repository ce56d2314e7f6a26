//! What a model ships with, from whichever file says it: pip requirements files, `uv.lock`,
//! `poetry.lock` (1.x and 2.x layouts), `Pipfile.lock`, conda `environment.yml`, and the
//! environment files of an MLflow model folder. Every reader gives the same
//! [`Requirement`] list, so [`super::audit`] judges them all alike.
//!
//! The format is chosen by the file name and then checked by content: a `uv.lock` that is
//! not uv's TOML layout is an error, not a guess. Which entries count is a policy, the
//! same for every format: what the serving environment installs is audited, development
//! groups are not (Pipfile.lock `develop`, Poetry's `dev` category or groups, uv's
//! dev-dependency groups), local source trees (the project itself, path dependencies) are
//! not PyPI releases and are skipped, and conda packages are listed as not audited,
//! since PyPI advisories do not name them (docs/artifacts.md).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path};

use serde::Deserialize;

use super::osv::normalize_name;
use super::requirements::{self, Folders, Requirement};
use crate::error::{Error, ErrorKind, Result};

/// The kinds of dependency list modelgate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Requirements,
    UvLock,
    PoetryLock,
    PipfileLock,
    CondaEnvironment,
    MlflowModel,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Requirements => "requirements",
            Kind::UvLock => "uv.lock",
            Kind::PoetryLock => "poetry.lock",
            Kind::PipfileLock => "Pipfile.lock",
            Kind::CondaEnvironment => "conda environment",
            Kind::MlflowModel => "MLflow model",
        }
    }
}

/// What one or more dependency files say will be installed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Manifest {
    /// The files read, as given, with their kind (`uv.lock (uv.lock)`), comma-separated.
    pub source: String,
    /// PyPI requirements, to be audited.
    pub requirements: Vec<Requirement>,
    /// Packages of another ecosystem (conda's), as written (`conda: numpy=1.23.5=py311h…`):
    /// listed, never matched against PyPI advisories.
    pub not_audited: Vec<String>,
}

/// A lock file larger than this is refused (the largest real ones are a few MiB).
const MAX_FILE: u64 = 32 << 20;

/// Recognises the kind of `path` by its name (a folder holding an `MLmodel` file is an
/// MLflow model; any other file name is a pip requirements file).
pub fn kind_of(path: &Path) -> Result<Kind> {
    if path.is_dir() {
        if path.join("MLmodel").is_file() {
            return Ok(Kind::MlflowModel);
        }
        return Err(Error::new(
            ErrorKind::EvidenceInvalid,
            format!("{}: a folder, but not an MLflow model (no MLmodel file)", path.display()),
        )
        .hint("give a requirements file, a lock file, or an MLflow model folder"));
    }
    let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
    Ok(match name {
        "uv.lock" => Kind::UvLock,
        "poetry.lock" => Kind::PoetryLock,
        "Pipfile.lock" => Kind::PipfileLock,
        "environment.yml" | "environment.yaml" | "conda.yaml" | "conda.yml" => Kind::CondaEnvironment,
        "MLmodel" => Kind::MlflowModel,
        _ => Kind::Requirements,
    })
}

/// Reads the dependency list at `path`: a requirements file, a lock file, a conda
/// environment, or an MLflow model folder (or its `MLmodel` file). This is what the
/// artifacts collector calls.
///
/// Requirements files included with `-r`/`-c` must be inside `root`, the project folder.
pub fn read_dependencies(path: &Path, root: &Path) -> Result<Manifest> {
    let kind = kind_of(path)?;
    let shown = path.display().to_string();
    let mut manifest = Manifest { source: format!("{shown} ({})", kind.as_str()), ..Manifest::default() };
    match kind {
        Kind::Requirements => manifest.requirements = requirements::read(path, root)?,
        Kind::UvLock => manifest.requirements = read_uv_lock(&shown, &read_bounded(path)?)?,
        Kind::PoetryLock => manifest.requirements = read_poetry_lock(&shown, &read_bounded(path)?)?,
        Kind::PipfileLock => manifest.requirements = read_pipfile_lock(&shown, &read_bounded(path)?)?,
        Kind::CondaEnvironment => {
            let folders = Folders { base: path.parent().unwrap_or(Path::new(".")), root };
            let (pip, conda) = read_conda_environment(&shown, &read_bounded(path)?, folders)?;
            manifest.requirements = pip;
            manifest.not_audited = conda;
        }
        Kind::MlflowModel => {
            let folder = if path.is_dir() { path } else { path.parent().unwrap_or(Path::new(".")) };
            let read = read_mlflow_model(folder)?;
            manifest.requirements = read.requirements;
            manifest.not_audited = read.not_audited;
        }
    }
    dedupe(&mut manifest);
    Ok(manifest)
}

/// Reads every path and merges what they say, once per distinct requirement. Each file's
/// includes must stay inside its own folder (a model folder's, for an MLflow model).
pub fn read_all(paths: &[impl AsRef<Path>]) -> Result<Manifest> {
    let mut merged = Manifest::default();
    let mut sources = Vec::new();
    for path in paths {
        let path = path.as_ref();
        let root = if path.is_dir() { path } else { path.parent().unwrap_or(Path::new(".")) };
        let root = if root.as_os_str().is_empty() { Path::new(".") } else { root };
        let manifest = read_dependencies(path, root)?;
        sources.push(manifest.source);
        merged.requirements.extend(manifest.requirements);
        merged.not_audited.extend(manifest.not_audited);
    }
    merged.source = sources.join(", ");
    dedupe(&mut merged);
    Ok(merged)
}

/// The same package at the same pin read twice (an MLflow folder's three files, or two
/// paths) is one requirement: its advisories are reported once.
fn dedupe(manifest: &mut Manifest) {
    let mut seen = BTreeSet::new();
    manifest.requirements.retain(|requirement| {
        seen.insert((
            normalize_name(&requirement.name),
            requirement.version.clone(),
            requirement.specifier.clone(),
            requirement.constraint,
        ))
    });
    let mut seen = BTreeSet::new();
    manifest.not_audited.retain(|entry| seen.insert(entry.clone()));
}

/// Reads a dependency file of at most [`MAX_FILE`] bytes as UTF-8. Only regular files:
/// an include of `/dev/zero` or a FIFO must not hang or fill memory.
pub(crate) fn read_bounded(path: &Path) -> Result<String> {
    let Some(bytes) = crate::input::read_at_most(path, MAX_FILE)? else {
        return Err(invalid(&path.display().to_string(), format!("larger than {} MiB", MAX_FILE >> 20))
            .hint("a dependency list this large is not a lock file; check the path"));
    };
    String::from_utf8(bytes).map_err(|error| {
        invalid(&path.display().to_string(), format!("not UTF-8 text (byte {})", error.utf8_error().valid_up_to()))
            .hint("lock and environment files are UTF-8 text")
    })
}

fn invalid(shown: &str, message: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::EvidenceInvalid, format!("{shown}: {message}"))
}

/// The line (from 1) holding byte `offset` of `text`.
fn line_at(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&byte| byte == b'\n').count() + 1
}

/// A requirement pinned by a lock file entry.
fn locked(name: &str, version: &str, file: &str, line: usize) -> Requirement {
    Requirement {
        name: name.to_string(),
        version: Some(version.to_string()),
        specifier: format!("=={version}"),
        marker: None,
        hashes: Vec::new(),
        file: file.to_string(),
        line,
        constraint: false,
        editable: false,
    }
}

fn parse_toml<T: serde::de::DeserializeOwned>(shown: &str, text: &str, hint: &str) -> Result<T> {
    toml::from_str(text).map_err(|error: toml::de::Error| {
        // The message and the line, never toml's quote of the source line: a wrong path
        // must not copy another file's content into the record.
        let line = error.span().map(|span| format!(":{}", line_at(text, span.start))).unwrap_or_default();
        let message = crate::error::shorten_quoted(error.message());
        invalid(&format!("{shown}{line}"), message).hint(hint.to_string())
    })
}

// ---------------------------------------------------------------- uv.lock

#[derive(Deserialize)]
struct UvLock {
    version: toml::Spanned<u32>,
    #[serde(default)]
    package: Vec<UvPackage>,
}

#[derive(Deserialize)]
struct UvPackage {
    name: toml::Spanned<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    source: BTreeMap<String, toml::Value>,
    #[serde(default)]
    dependencies: Vec<UvDependency>,
    #[serde(default, rename = "optional-dependencies")]
    optional_dependencies: BTreeMap<String, Vec<UvDependency>>,
}

#[derive(Deserialize)]
struct UvDependency {
    name: String,
}

/// The kinds of source uv records for a package.
const UV_SOURCES: [&str; 7] = ["registry", "git", "url", "path", "editable", "virtual", "directory"];

/// uv sources that are a local source tree, not a release: the project and its
/// workspace members (`editable`, `virtual`) and path dependencies on folders.
const UV_LOCAL_SOURCES: [&str; 3] = ["editable", "virtual", "directory"];

/// `uv.lock` (lock format version 1): every `[[package]]` the project installs without
/// its development groups. The workspace members are the roots; what their
/// `dependencies` and `optional-dependencies` reach (transitively, every extra counted)
/// is audited; what only `[package.dev-dependencies]` reach is not.
fn read_uv_lock(shown: &str, text: &str) -> Result<Vec<Requirement>> {
    let hint = "uv.lock is written by `uv lock`; regenerate it";
    // The two TOML lock layouts look alike to a parser; say which one this is.
    if let Some(index) = text.lines().position(|line| line.starts_with("lock-version")) {
        return Err(invalid(shown, format!("line {}: `lock-version` is Poetry's layout, not uv's", index + 1))
            .hint("name a Poetry lock file poetry.lock"));
    }
    let lock: UvLock = parse_toml(shown, text, hint)?;
    if *lock.version.get_ref() != 1 {
        return Err(invalid(
            shown,
            format!(
                "line {}: `version = {}`: only uv's lock format 1 is known",
                line_at(text, lock.version.span().start),
                lock.version.get_ref()
            ),
        )
        .hint("regenerate the lock with a uv release that writes format 1, or report this format"));
    }
    // The kind of a source is its one key among uv's; other keys (none today) are ignored.
    let source_kind = |package: &UvPackage| {
        UV_SOURCES.iter().find(|kind| package.source.contains_key(**kind)).map_or("", |kind| *kind).to_string()
    };
    for package in &lock.package {
        let kind = source_kind(package);
        if kind.is_empty() {
            return Err(invalid(
                shown,
                format!(
                    "line {}: package `{}` has no `source` of a kind uv writes ({})",
                    line_at(text, package.name.span().start),
                    package.name.get_ref(),
                    UV_SOURCES.join(", ")
                ),
            )
            .hint(hint));
        }
        if !UV_LOCAL_SOURCES.contains(&kind.as_str()) && package.version.is_none() {
            return Err(invalid(
                shown,
                format!(
                    "line {}: package `{}` (source {kind}) has no `version`",
                    line_at(text, package.name.span().start),
                    package.name.get_ref()
                ),
            )
            .hint(hint));
        }
    }
    let by_name: BTreeMap<String, Vec<&UvPackage>> = lock.package.iter().fold(BTreeMap::new(), |mut map, package| {
        map.entry(normalize_name(package.name.get_ref())).or_insert_with(Vec::new).push(package);
        map
    });
    let roots: Vec<&UvPackage> =
        lock.package.iter().filter(|package| matches!(source_kind(package).as_str(), "editable" | "virtual")).collect();
    // Without a workspace member (a lock of a script), everything in it is installed.
    let reachable: BTreeSet<String> = if roots.is_empty() {
        by_name.keys().cloned().collect()
    } else {
        let mut reached = BTreeSet::new();
        let mut queue: Vec<&UvPackage> = roots;
        while let Some(package) = queue.pop() {
            if !reached.insert(normalize_name(package.name.get_ref())) {
                continue;
            }
            let next = package.dependencies.iter().chain(package.optional_dependencies.values().flatten());
            for dependency in next {
                queue.extend(by_name.get(&normalize_name(&dependency.name)).into_iter().flatten());
            }
        }
        reached
    };
    Ok(lock
        .package
        .iter()
        .filter(|package| !UV_LOCAL_SOURCES.contains(&source_kind(package).as_str()))
        .filter(|package| reachable.contains(&normalize_name(package.name.get_ref())))
        .filter_map(|package| {
            let version = package.version.as_deref()?;
            Some(locked(package.name.get_ref(), version, shown, line_at(text, package.name.span().start)))
        })
        .collect())
}

// ---------------------------------------------------------------- poetry.lock

#[derive(Deserialize)]
struct PoetryLock {
    #[serde(default)]
    package: Vec<PoetryPackage>,
    metadata: PoetryMetadata,
}

#[derive(Deserialize)]
struct PoetryMetadata {
    #[serde(rename = "lock-version")]
    lock_version: String,
}

#[derive(Deserialize)]
struct PoetryPackage {
    name: toml::Spanned<String>,
    version: String,
    /// Poetry 1.x (lock-version 1.x): `main` or `dev`.
    #[serde(default)]
    category: Option<String>,
    /// Poetry 2.x (lock-version 2.1): the dependency groups that need the package.
    #[serde(default)]
    groups: Option<Vec<String>>,
    #[serde(default)]
    source: Option<PoetrySource>,
}

#[derive(Deserialize)]
struct PoetrySource {
    #[serde(rename = "type")]
    kind: String,
}

/// `poetry.lock`, lock-version 1.x (`category`) or 2.x (`groups` from 2.1): every
/// package of the main group. Lock-version 2.0 records no groups, so all its packages
/// count. A `directory` source is a local tree, not a release, and is skipped.
fn read_poetry_lock(shown: &str, text: &str) -> Result<Vec<Requirement>> {
    let lock: PoetryLock = parse_toml(shown, text, "poetry.lock is written by `poetry lock`; regenerate it")?;
    let major = lock.metadata.lock_version.split('.').next().unwrap_or_default();
    if !matches!(major, "1" | "2") {
        return Err(invalid(
            shown,
            format!(
                "metadata.lock-version = \"{}\": only lock versions 1.x and 2.x are known",
                lock.metadata.lock_version
            ),
        )
        .hint("regenerate the lock with Poetry 1.x or 2.x, or report this format"));
    }
    Ok(lock
        .package
        .iter()
        .filter(|package| package.category.as_deref().is_none_or(|category| category == "main"))
        .filter(|package| package.groups.as_ref().is_none_or(|groups| groups.iter().any(|group| group == "main")))
        .filter(|package| package.source.as_ref().is_none_or(|source| source.kind != "directory"))
        .map(|package| {
            locked(package.name.get_ref(), &package.version, shown, line_at(text, package.name.span().start))
        })
        .collect())
}

// ---------------------------------------------------------------- Pipfile.lock

#[derive(Deserialize)]
struct PipfileLock {
    #[serde(rename = "_meta")]
    #[allow(dead_code)] // required: it is what makes the JSON a Pipfile.lock
    meta: serde_json::Value,
    #[serde(default)]
    default: BTreeMap<String, PipfileEntry>,
}

#[derive(Deserialize)]
struct PipfileEntry {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    hashes: Vec<String>,
    #[serde(default)]
    markers: Option<String>,
    #[serde(default)]
    editable: bool,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    git: Option<String>,
    #[serde(default)]
    file: Option<String>,
    #[serde(default, rename = "ref")]
    reference: Option<String>,
}

/// `Pipfile.lock`: the `default` packages, those `pipenv install` puts in the serving
/// environment (`develop` needs `--dev`). `"version": "==X"` pins X; a local path is
/// skipped as the project's own tree; a git or file entry without a version cannot be
/// checked and is unpinned.
fn read_pipfile_lock(shown: &str, text: &str) -> Result<Vec<Requirement>> {
    let path = Path::new(shown);
    let source = crate::strict::Source::new(path, "Pipfile.lock", ErrorKind::EvidenceInvalid);
    let lock: PipfileLock = crate::strict::read(text, crate::strict::Syntax::Json, &source)
        .map_err(|error| error.hint("Pipfile.lock is written by `pipenv lock`; regenerate it"))?;
    let section = text.find("\"default\"").unwrap_or(0);
    let mut out = Vec::new();
    for (name, entry) in &lock.default {
        let line = text[section..].find(&format!("\"{name}\"")).map_or(0, |at| line_at(text, section + at));
        let mut requirement = match entry.version.as_deref() {
            Some(version) => {
                let pinned = version.strip_prefix("===").or_else(|| version.strip_prefix("=="));
                let Some(pinned) = pinned.map(str::trim).filter(|pinned| !pinned.is_empty() && !pinned.ends_with(".*"))
                else {
                    return Err(invalid(shown, format!("default.{name}.version = \"{version}\" is not `==VERSION`"))
                        .hint("a lock pins every package; regenerate it with `pipenv lock`"));
                };
                locked(name, pinned, shown, line)
            }
            None if entry.path.is_some() || (entry.editable && entry.git.is_none()) => continue,
            None => {
                let location = entry.git.as_deref().or(entry.file.as_deref()).unwrap_or("(no version)");
                let at = entry.reference.as_deref().map(|reference| format!("@{reference}")).unwrap_or_default();
                Requirement {
                    name: name.clone(),
                    version: None,
                    specifier: format!("@ {location}{at}"),
                    marker: None,
                    hashes: Vec::new(),
                    file: shown.to_string(),
                    line,
                    constraint: false,
                    editable: entry.editable,
                }
            }
        };
        requirement.hashes = entry.hashes.clone();
        requirement.marker = entry.markers.clone();
        out.push(requirement);
    }
    Ok(out)
}

// ---------------------------------------------------------------- conda

/// A conda environment file: the keys conda reads, `dependencies` required. A file of
/// anything else (or cut off before its `dependencies`) is not an environment with no
/// packages: it is not an environment.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // name, channels, prefix and variables are read to refuse anything else
struct CondaEnvironment {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    channels: Vec<String>,
    dependencies: Vec<CondaDependency>,
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    variables: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CondaDependency {
    Spec(String),
    Pip { pip: Vec<String> },
}

/// A conda environment (`environment.yml`, MLflow's `conda.yaml`): the `pip:` entries
/// as requirements (`-r FILE` relative to the environment file), and the conda specs
/// (`[channel::]name[=version[=build]]`, `name==version`, `name version build`) listed as
/// not audited.
fn read_conda_environment(shown: &str, text: &str, folders: Folders) -> Result<(Vec<Requirement>, Vec<String>)> {
    if text.lines().all(|line| line.trim().is_empty() || line.trim_start().starts_with('#')) {
        return Err(invalid(shown, "the conda environment is empty")
            .hint("an environment file lists its `dependencies` (`conda env export --from-history` writes one)"));
    }
    let environment: CondaEnvironment = parse_yaml(
        shown,
        text,
        "a conda environment is a mapping with a `dependencies` list of specs and an optional `pip:` list",
    )?;
    let mut pip = Vec::new();
    let mut conda = Vec::new();
    let mut searched_from = 0;
    for (index, dependency) in environment.dependencies.iter().enumerate() {
        match dependency {
            CondaDependency::Spec(spec) => {
                if conda_name(spec).is_none() {
                    return Err(invalid(
                        shown,
                        format!("dependencies[{index}] = `{spec}` is not a conda package spec"),
                    )
                    .hint(
                        "write conda specs as `name`, `name=version`, `name=version=build` or `channel::name=version`",
                    ));
                }
                conda.push(format!("conda: {}", spec.trim()));
            }
            CondaDependency::Pip { pip: entries } => {
                pip.extend(read_yaml_requirements(entries, shown, text, &mut searched_from, folders)?);
            }
        }
    }
    Ok((pip, conda))
}

/// Reads pip lines held in a YAML list of `text`, each numbered by its line in the file.
fn read_yaml_requirements(
    entries: &[String],
    shown: &str,
    text: &str,
    searched_from: &mut usize,
    folders: Folders,
) -> Result<Vec<Requirement>> {
    let mut out = Vec::new();
    for entry in entries {
        // YAML drops positions; an entry's line is that of its first occurrence after the
        // previous entry (0 when quoting or folding changed its text).
        let line = match text.get(*searched_from..).and_then(|rest| rest.find(entry.as_str())) {
            Some(at) => {
                *searched_from += at + entry.len();
                line_at(text, *searched_from)
            }
            None => 0,
        };
        out.extend(requirements::read_text(entry, shown, line, folders)?);
    }
    Ok(out)
}

/// The package name of a conda match spec, or `None` when it is not one.
fn conda_name(spec: &str) -> Option<&str> {
    let spec = spec.trim();
    let spec = spec.rsplit_once("::").map_or(spec, |(_, rest)| rest);
    let end = spec.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))).unwrap_or(spec.len());
    let (name, rest) = spec.split_at(end);
    let rest_ok = rest.is_empty()
        || rest.starts_with(['=', '<', '>', '!', '~', ' ', '['])
            && rest.chars().all(|c| !c.is_control() && !matches!(c, '#' | ';' | '@'));
    (!name.is_empty() && name.starts_with(|c: char| c.is_ascii_alphanumeric()) && rest_ok).then_some(name)
}

fn parse_yaml<T: serde::de::DeserializeOwned>(shown: &str, text: &str, hint: &str) -> Result<T> {
    let source = crate::strict::Source::new(Path::new(shown), "the file", ErrorKind::EvidenceInvalid);
    crate::strict::read(text, crate::strict::Syntax::Yaml, &source).map_err(|error| error.hint(hint.to_string()))
}

// ---------------------------------------------------------------- MLflow

#[derive(Deserialize)]
struct MlModel {
    #[serde(default)]
    flavors: BTreeMap<String, yaml_serde::Value>,
}

#[derive(Deserialize)]
struct PythonEnv {
    #[serde(default)]
    build_dependencies: Vec<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

/// The default names MLflow gives the environment files of a model.
const MLFLOW_FILES: [&str; 3] = ["python_env.yaml", "requirements.txt", "conda.yaml"];

/// An MLflow model folder: the environment files `MLmodel` names
/// (`flavors.python_function.env`, a conda file or `{conda, virtualenv}`) plus those with
/// MLflow's default names, all read and merged: each environment manager installs from
/// one of them, and the gate does not know which will be used. python_env.yaml's
/// `build_dependencies` (pip, setuptools, wheel) are installed too and count.
fn read_mlflow_model(folder: &Path) -> Result<Manifest> {
    let mlmodel_path = folder.join("MLmodel");
    let mlmodel_shown = mlmodel_path.display().to_string();
    let mlmodel: MlModel = parse_yaml(
        &mlmodel_shown,
        &read_bounded(&mlmodel_path)?,
        "MLmodel is the YAML file MLflow writes beside the model",
    )?;
    let mut named: Vec<String> = Vec::new();
    if let Some(env) = mlmodel.flavors.get("python_function").and_then(|flavor| flavor.get("env")) {
        match env {
            yaml_serde::Value::String(conda) => named.push(conda.clone()),
            yaml_serde::Value::Mapping(files) => {
                for (manager, file) in files {
                    let file = file.as_str().ok_or_else(|| {
                        invalid(
                            &mlmodel_shown,
                            format!("flavors.python_function.env.{}: not a file name", manager.as_str().unwrap_or("?")),
                        )
                        .hint("MLflow writes `env: {conda: conda.yaml, virtualenv: python_env.yaml}`")
                    })?;
                    named.push(file.to_string());
                }
            }
            _ => {
                return Err(invalid(&mlmodel_shown, "flavors.python_function.env: neither a file name nor a mapping")
                    .hint("MLflow writes `env: {conda: conda.yaml, virtualenv: python_env.yaml}`"))
            }
        }
    }
    for name in &named {
        let escapes = Path::new(name).components().any(|component| !matches!(component, Component::Normal(_)));
        if escapes || name.is_empty() {
            return Err(invalid(
                &mlmodel_shown,
                format!("flavors.python_function.env names `{name}`, outside the model folder"),
            )
            .hint("an MLflow model's environment files are inside its folder"));
        }
    }
    named.extend(MLFLOW_FILES.iter().map(|name| name.to_string()).filter(|name| folder.join(name).is_file()));
    let mut seen = BTreeSet::new();
    named.retain(|name| seen.insert(name.clone()));
    if named.is_empty() {
        return Err(invalid(
            &folder.display().to_string(),
            "an MLflow model with no environment file (python_env.yaml, requirements.txt or conda.yaml)",
        )
        .hint("log the model with MLflow 1.26 or later, which writes its environment files"));
    }
    let mut manifest = Manifest::default();
    for name in named {
        let path = folder.join(&name);
        let shown = path.display().to_string();
        if name.ends_with("python_env.yaml") || name.ends_with("python_env.yml") {
            let text = read_bounded(&path)?;
            let hint = "python_env.yaml holds `python`, `build_dependencies` and `dependencies` lists of pip lines";
            let env: PythonEnv = parse_yaml(&shown, &text, hint)?;
            let mut searched_from = 0;
            for entries in [&env.build_dependencies, &env.dependencies] {
                manifest.requirements.extend(read_yaml_requirements(
                    entries,
                    &shown,
                    &text,
                    &mut searched_from,
                    Folders { base: folder, root: folder },
                )?);
            }
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            let (pip, conda) =
                read_conda_environment(&shown, &read_bounded(&path)?, Folders { base: folder, root: folder })?;
            manifest.requirements.extend(pip);
            manifest.not_audited.extend(conda);
        } else {
            manifest.requirements.extend(requirements::read(&path, folder)?);
        }
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, text).expect("write");
        path
    }

    fn pins(manifest: &Manifest) -> Vec<(String, Option<String>)> {
        manifest.requirements.iter().map(|r| (r.name.clone(), r.version.clone())).collect()
    }

    fn pin(name: &str, version: Option<&str>) -> (String, Option<String>) {
        (name.to_string(), version.map(str::to_string))
    }

    const UV_LOCK: &str = r#"version = 1
requires-python = ">=3.11"

[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }
dependencies = [{ name = "requests" }, { name = "torch", extra = ["x"] }]

[package.dev-dependencies]
dev = [{ name = "pytest" }]

[[package]]
name = "requests"
version = "2.28.1"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "urllib3" }]

[[package]]
name = "urllib3"
version = "1.26.20"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "torch"
version = "2.5.1"
source = { git = "https://github.com/pytorch/pytorch?rev=abc#abc" }

[[package]]
name = "pytest"
version = "8.0.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "urllib3" }]

[[package]]
name = "helper"
version = "0.0.1"
source = { directory = "libs/helper" }
"#;

    #[test]
    fn uv_lock_audits_what_the_project_installs_without_dev_groups() {
        let dir = tempfile::tempdir().expect("tempdir");
        let manifest = read_dependencies(&write(dir.path(), "uv.lock", UV_LOCK), dir.path()).expect("read");
        assert_eq!(
            pins(&manifest),
            [pin("requests", Some("2.28.1")), pin("urllib3", Some("1.26.20")), pin("torch", Some("2.5.1"))]
        );
        assert_eq!(manifest.requirements[0].line, 14, "the line of the package's name");
        assert!(manifest.source.ends_with("uv.lock (uv.lock)"), "{}", manifest.source);
        // A lock without a workspace member (a script's) installs everything in it.
        let script = UV_LOCK.replace("source = { editable = \".\" }", "source = { registry = \"x\" }");
        let manifest = read_dependencies(&write(dir.path(), "s/uv.lock", &script), dir.path()).expect("read");
        assert_eq!(manifest.requirements.len(), 5, "{:?}", pins(&manifest));
    }

    #[test]
    fn a_lock_file_is_checked_by_content() {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, text, needle) in [
            ("a/uv.lock", "[metadata]\nlock-version = \"2.1\"\n", "line 2: `lock-version` is Poetry's layout"),
            ("a2/uv.lock", "requires-python = \">=3.11\"\n", "missing field `version`"),
            ("b/uv.lock", "version = 2\n", "only uv's lock format 1"),
            (
                "c/uv.lock",
                "version = 1\n[[package]]\nname = \"x\"\nsource = { registry = \"r\" }\n",
                "has no `version`",
            ),
            (
                "c2/uv.lock",
                "version = 1\n[[package]]\nname = \"x\"\nversion = \"1\"\n",
                "line 3: package `x` has no `source`",
            ),
            ("d/poetry.lock", "version = 1\n[[package]]\nname = \"x\"\n", "missing field"),
            ("e/poetry.lock", "[metadata]\nlock-version = \"3.0\"\n", "only lock versions 1.x and 2.x"),
            ("f/Pipfile.lock", "{\"default\": {}}", "missing field `_meta`"),
            ("g/Pipfile.lock", "{\"_meta\": {}, \"default\": {\"x\": {\"version\": \">=1\"}}}", "default.x.version"),
            ("h/Pipfile.lock", "{\"_meta\": {}, \"default\": {\"x\": {\"version\": 7}}}", "default.x.version"),
            ("i/environment.yml", "dependencies: [\"numpy=1.0\", \"%%%\"]\n", "dependencies[1]"),
            ("j/environment.yml", "dependencies:\n  - pip:\n    - numpy==1.0\n    - \"%%%\"\n", "environment.yml:4"),
            ("k/environment.yml", "- just a list\n", "environment.yml"),
            ("l/uv.lock", "version = 1\n[[package]\n", "uv.lock:2: unclosed array table"),
        ] {
            let path = write(dir.path(), name, text);
            let error = read_dependencies(&path, dir.path()).expect_err(name);
            assert!(error.message.contains(needle), "{name}: {}", error.message);
            assert!(error.message.contains(&path.display().to_string()), "{name} names the file: {}", error.message);
            assert!(error.hint.is_some(), "{name} has a hint");
        }
        assert!(read_dependencies(dir.path(), dir.path())
            .expect_err("plain folder")
            .message
            .contains("not an MLflow model"));
    }

    #[test]
    fn poetry_locks_of_both_layouts_keep_the_main_group() {
        let dir = tempfile::tempdir().expect("tempdir");
        let one = "[[package]]\nname = \"numpy\"\nversion = \"1.23.5\"\ncategory = \"main\"\noptional = false\n\n\
                   [[package]]\nname = \"pytest\"\nversion = \"8.0\"\ncategory = \"dev\"\n\n\
                   [[package]]\nname = \"mylib\"\nversion = \"0.1\"\ncategory = \"main\"\n\
                   [package.source]\ntype = \"directory\"\nurl = \"../mylib\"\n\n\
                   [metadata]\nlock-version = \"1.1\"\n[metadata.files]\nnumpy = []\n";
        let manifest = read_dependencies(&write(dir.path(), "1/poetry.lock", one), dir.path()).expect("1.x");
        assert_eq!(pins(&manifest), [pin("numpy", Some("1.23.5"))]);
        let two = "[[package]]\nname = \"numpy\"\nversion = \"1.23.5\"\ngroups = [\"main\"]\nfiles = []\n\n\
                   [[package]]\nname = \"pytest\"\nversion = \"8.0\"\ngroups = [\"dev\"]\n\n\
                   [[package]]\nname = \"urllib3\"\nversion = \"1.26.20\"\ngroups = [\"dev\", \"main\"]\n\n\
                   [metadata]\nlock-version = \"2.1\"\n";
        let manifest = read_dependencies(&write(dir.path(), "2/poetry.lock", two), dir.path()).expect("2.x");
        assert_eq!(pins(&manifest), [pin("numpy", Some("1.23.5")), pin("urllib3", Some("1.26.20"))]);
        // Lock-version 2.0 does not say which group needs a package: all count.
        let manifest = read_dependencies(
            &write(dir.path(), "3/poetry.lock", &two.replace("groups = [\"dev\"]\n", "").replace("2.1", "2.0")),
            dir.path(),
        )
        .expect("2.0");
        assert_eq!(manifest.requirements.len(), 3);
    }

    #[test]
    fn pipfile_lock_audits_default_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = r#"{"_meta": {"hash": {"sha256": "x"}, "pipfile-spec": 6},
            "default": {
                "numpy": {"hashes": ["sha256:aa"], "markers": "python_version >= '3.8'", "version": "==1.23.5"},
                "mylib": {"editable": true, "path": "."},
                "gitlib": {"git": "https://example.com/gitlib.git", "ref": "abc123"}
            },
            "develop": {"pytest": {"version": "==8.0"}}}"#;
        let manifest = read_dependencies(&write(dir.path(), "Pipfile.lock", text), dir.path()).expect("read");
        assert_eq!(pins(&manifest), [pin("gitlib", None), pin("numpy", Some("1.23.5"))]);
        assert_eq!(manifest.requirements[0].specifier, "@ https://example.com/gitlib.git@abc123");
        assert_eq!(manifest.requirements[1].hashes, ["sha256:aa"]);
        assert_eq!(manifest.requirements[1].line, 3);
    }

    #[test]
    fn conda_environments_audit_pip_entries_and_list_conda_packages() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "extra.txt", "jinja2==3.1.2\n");
        let text = "name: serve\nchannels: [conda-forge]\ndependencies:\n  - python=3.11\n  - conda-forge::numpy=1.23.5=py311h\n\
                    \x20 - pytorch 2.0.1 py3.11_cuda11.8\n  - pip\n  - pip:\n    - requests==2.28.1\n    - transformers>=4.30\n    - -r extra.txt\n";
        let manifest = read_dependencies(&write(dir.path(), "environment.yml", text), dir.path()).expect("read");
        assert_eq!(
            pins(&manifest),
            [pin("requests", Some("2.28.1")), pin("transformers", None), pin("jinja2", Some("3.1.2"))]
        );
        assert_eq!(manifest.requirements[0].line, 9);
        assert_eq!(manifest.requirements[1].line, 10);
        assert_eq!(
            manifest.not_audited,
            [
                "conda: python=3.11",
                "conda: conda-forge::numpy=1.23.5=py311h",
                "conda: pytorch 2.0.1 py3.11_cuda11.8",
                "conda: pip"
            ]
        );
    }

    #[test]
    fn mlflow_models_merge_their_environment_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let model = dir.path().join("model");
        write(
            &model,
            "MLmodel",
            "flavors:\n  python_function:\n    env:\n      conda: conda.yaml\n      virtualenv: python_env.yaml\n",
        );
        write(&model, "requirements.txt", "mlflow==2.22.1\nscikit-learn==1.2.2\n");
        write(
            &model,
            "python_env.yaml",
            "python: 3.11.7\nbuild_dependencies:\n- pip==23.2.1\n- wheel\ndependencies:\n- -r requirements.txt\n",
        );
        write(
            &model,
            "conda.yaml",
            "dependencies:\n- python=3.11.7\n- pip:\n  - mlflow==2.22.1\n  - scikit-learn==1.2.2\n",
        );
        let manifest = read_dependencies(&model, dir.path()).expect("read");
        assert_eq!(
            pins(&manifest),
            [
                pin("mlflow", Some("2.22.1")),
                pin("scikit-learn", Some("1.2.2")),
                pin("pip", Some("23.2.1")),
                pin("wheel", None)
            ],
            "each requirement once, in the order MLmodel names the files"
        );
        assert_eq!(manifest.not_audited, ["conda: python=3.11.7"]);
        assert_eq!(
            read_dependencies(&model.join("MLmodel"), dir.path()).expect("the MLmodel file").requirements.len(),
            4
        );
        write(&model, "MLmodel", "flavors:\n  python_function:\n    env: ../../etc/conda.yaml\n");
        assert!(read_dependencies(&model, dir.path())
            .expect_err("escape")
            .message
            .contains("outside the model folder"));
        write(&model, "MLmodel", "flavors: [1, 2]\n");
        assert!(read_dependencies(&model, dir.path()).expect_err("bad MLmodel").message.contains("MLmodel"));
        let empty = dir.path().join("empty");
        write(&empty, "MLmodel", "flavors: {}\n");
        assert!(read_dependencies(&empty, dir.path()).expect_err("no env").message.contains("no environment file"));
    }

    #[test]
    fn several_paths_merge_into_one_list() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = write(dir.path(), "a.txt", "numpy==1.23.5\nrequests==2.28.1\n");
        let b = write(dir.path(), "b.txt", "numpy==1.23.5\nrequests==2.31.0\n");
        let manifest = read_all(&[a, b]).expect("read");
        assert_eq!(manifest.requirements.len(), 3);
        assert!(manifest.source.contains("a.txt (requirements), "), "{}", manifest.source);
    }

    /// Every truncation and every line removed or doubled of each format's sample gives a
    /// list or an error, never a panic (the fuzz target goes further, on bytes).
    #[test]
    fn damaged_inputs_give_a_list_or_an_error() {
        let pipfile = r#"{"_meta": {}, "default": {"numpy": {"version": "==1.23.5", "hashes": ["sha256:aa"]},
            "g": {"git": "https://x", "ref": "r"}}, "develop": {}}"#;
        let poetry = "[[package]]\nname = \"numpy\"\nversion = \"1.23.5\"\ngroups = [\"main\"]\n\n\
                      [package.source]\ntype = \"directory\"\nurl = \"x\"\n\n[metadata]\nlock-version = \"2.1\"\n";
        let conda = "name: x\ndependencies:\n  - numpy=1.2=b\n  - pip:\n    - requests==2.28.1\n    - -r x.txt\n";
        let base = Path::new(".");
        let mut outcomes = [0usize; 2];
        for text in [UV_LOCK, pipfile, poetry, conda] {
            let lines: Vec<&str> = text.lines().collect();
            let mut variants: Vec<String> = text.char_indices().map(|(at, _)| text[..at].to_string()).collect();
            for index in 0..lines.len() {
                let mut removed = lines.clone();
                removed.remove(index);
                variants.push(removed.join("\n"));
                let mut doubled = lines.clone();
                doubled.insert(index, lines[index]);
                variants.push(doubled.join("\n"));
            }
            for variant in &variants {
                let results = [
                    read_uv_lock("t", variant).map(|list| list.len()),
                    read_poetry_lock("t", variant).map(|list| list.len()),
                    read_pipfile_lock("t", variant).map(|list| list.len()),
                    read_conda_environment("t", variant, Folders { base, root: base })
                        .map(|(pip, conda)| pip.len() + conda.len()),
                ];
                for result in results {
                    outcomes[usize::from(result.is_ok())] += 1;
                }
            }
        }
        assert!(outcomes[0] > 1000 && outcomes[1] > 100, "errors and lists: {outcomes:?}");
    }

    #[test]
    fn conda_specs_are_recognised() {
        for spec in [
            "numpy",
            "numpy=1.2",
            "numpy==1.2",
            "numpy 1.2 py_0",
            "conda-forge::numpy>=1.2,<2",
            "numpy[version='>=1.2']",
        ] {
            assert_eq!(conda_name(spec), Some("numpy"), "{spec}");
        }
        for spec in ["", "::", "=1.0", "numpy#x", "-e ."] {
            assert_eq!(conda_name(spec), None, "{spec:?}");
        }
    }
}
