//! pip requirements files (`requirements.txt`, and the one inside an MLflow model
//! folder): what a model ships with, and whether each requirement is pinned.
//!
//! The format is pip's: one requirement per line (PEP 508: `name[extras] specifiers ;
//! marker`, or `name @ URL`), `\` continues a line, `#` starts a comment, options such
//! as `--hash=sha256:…` follow a requirement, `-r FILE` includes another file (relative
//! to this one) and `-c FILE` constrains versions. Only an exact `==V` (no wildcard) or
//! `===V` pins a version; anything else is unpinned, since what pip installs then
//! depends on the day.

use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};

/// One requirement line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// As written.
    pub name: String,
    /// The pinned version, when exactly one is.
    pub version: Option<String>,
    /// The specifiers as written (`>=1.0,<2`), or the URL of `name @ URL`.
    pub specifier: String,
    pub marker: Option<String>,
    /// `--hash` values (`sha256:…`).
    pub hashes: Vec<String>,
    /// Where it was read: the file (as given or as included) and the line.
    pub file: String,
    pub line: usize,
    /// From a `-c` constraints file: it pins a version only if the package is required.
    pub constraint: bool,
    /// An editable install (`-e`): a source tree, never pinned.
    pub editable: bool,
}

/// Includes deeper than this are refused (a cycle, or a hostile file).
const MAX_DEPTH: usize = 8;

/// Reads `path` and the files it includes.
///
/// `-r`/`-c` includes must resolve inside `root` (the project folder): an include of
/// `/etc/shadow` would otherwise copy another file's content into the record.
pub fn read(path: &Path, root: &Path) -> Result<Vec<Requirement>> {
    let mut out = Vec::new();
    let mut stack = Vec::new();
    let file = File { path, shown: &path.display().to_string(), constraint: false, included: false };
    read_into(&file, root, &mut stack, &mut out)?;
    Ok(out)
}

/// Where `-r`/`-c` includes of some requirement lines are resolved from (`base`, the
/// folder of the file holding them) and the folder they must stay in (`root`).
#[derive(Debug, Clone, Copy)]
pub struct Folders<'a> {
    pub base: &'a Path,
    pub root: &'a Path,
}

/// A requirements file to read, as named where it was found.
struct File<'a> {
    path: &'a Path,
    shown: &'a str,
    /// Read as constraints (`-c`).
    constraint: bool,
    /// Named by an `-r`/`-c` line rather than by the user.
    included: bool,
}

fn read_into(file: &File, root: &Path, stack: &mut Vec<PathBuf>, out: &mut Vec<Requirement>) -> Result<()> {
    let (path, shown, constraint) = (file.path, file.shown, file.constraint);
    let canonical = path.canonicalize().map_err(|source| Error::read(path, source))?;
    if file.included {
        crate::input::refuse_outside(path, &canonical, root, "an included requirements file")?;
    }
    if stack.contains(&canonical) || stack.len() >= MAX_DEPTH {
        return Err(Error::new(
            ErrorKind::EvidenceInvalid,
            format!("{shown}: includes itself (or nests deeper than {MAX_DEPTH})"),
        )
        .hint("remove the -r/-c cycle"));
    }
    stack.push(canonical);
    let text = super::lockfiles::read_bounded(path)?;
    let folders = Folders { base: path.parent().unwrap_or(Path::new(".")), root };
    parse_into(&text, shown, folders, 0, constraint, stack, out)?;
    stack.pop();
    Ok(())
}

/// Reads requirement lines that are not a file of their own (the `pip:` list of a conda
/// environment, the `dependencies` of MLflow's python_env.yaml): `shown` names where they
/// are, `first_line` the line of `shown` the text starts on, and `-r`/`-c` includes are
/// resolved from `folders.base` and must stay in `folders.root`.
pub fn read_text(text: &str, shown: &str, first_line: usize, folders: Folders) -> Result<Vec<Requirement>> {
    let mut out = Vec::new();
    parse_into(text, shown, folders, first_line.saturating_sub(1), false, &mut Vec::new(), &mut out)?;
    Ok(out)
}

fn parse_into(
    text: &str,
    shown: &str,
    folders: Folders,
    line_offset: usize,
    constraint: bool,
    stack: &mut Vec<PathBuf>,
    out: &mut Vec<Requirement>,
) -> Result<()> {
    for (line, logical) in logical_lines(text) {
        let line = line + line_offset;
        let invalid = |message: String| {
            Error::new(ErrorKind::EvidenceInvalid, format!("{shown}:{line}: {message}"))
                .hint("write one PEP 508 requirement per line, e.g. `torch==2.6.0 --hash=sha256:…`")
        };
        let mut words = logical.split_whitespace().peekable();
        let Some(first) = words.peek().copied() else { continue };
        if let Some((option, value)) = include_option(first, &mut words) {
            let value = value.ok_or_else(|| invalid(format!("{option} needs a file")))?;
            let included = folders.base.join(&value);
            let file = File {
                path: &included,
                shown: &format!("{shown} -> {value}"),
                constraint: option == "-c" || constraint,
                included: true,
            };
            read_into(&file, folders.root, stack, out)?;
            continue;
        }
        let editable = matches!(first, "-e" | "--editable") || first.starts_with("--editable=");
        if first.starts_with('-') && !editable {
            continue; // --index-url, --extra-index-url, --find-links, --pre, …
        }
        if editable {
            let target = match first.strip_prefix("--editable=") {
                Some(target) => target.to_string(),
                None => {
                    words.next();
                    words.next().map(str::to_string).ok_or_else(|| invalid("-e needs a path or URL".into()))?
                }
            };
            out.push(Requirement {
                name: target.rsplit(['/', '=']).next().unwrap_or(&target).to_string(),
                version: None,
                specifier: target,
                marker: None,
                hashes: Vec::new(),
                file: shown.to_string(),
                line,
                constraint,
                editable: true,
            });
            continue;
        }
        let (requirement, options) = split_options(&logical);
        let hashes = options
            .iter()
            .filter_map(|option| option.strip_prefix("--hash=").or_else(|| option.strip_prefix("--hash ")))
            .map(str::to_string)
            .collect();
        let mut parsed = parse_requirement(requirement).map_err(invalid)?;
        parsed.hashes = hashes;
        parsed.file = shown.to_string();
        parsed.line = line;
        parsed.constraint = constraint;
        out.push(parsed);
    }
    Ok(())
}

/// `-r FILE`, `-rFILE`, `--requirement=FILE`, `-c FILE`, …: the option and its file.
fn include_option<'a>(
    first: &'a str,
    words: &mut std::iter::Peekable<std::str::SplitWhitespace<'a>>,
) -> Option<(&'static str, Option<String>)> {
    for (short, long, name) in [("-r", "--requirement", "-r"), ("-c", "--constraint", "-c")] {
        let value = if first == short || first == long {
            words.next();
            Some(words.next().map(str::to_string))
        } else if let Some(rest) = first.strip_prefix(&format!("{long}=")) {
            Some(Some(rest.to_string()))
        } else if first.starts_with(short) && first.len() > 2 {
            Some(Some(first[2..].to_string()))
        } else {
            None
        };
        if let Some(value) = value {
            return Some((name, value));
        }
    }
    None
}

/// The lines of a requirements file with comments removed and `\` continuations joined,
/// each with the number of its first line.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    for (index, raw) in text.lines().enumerate() {
        if current.is_empty() {
            start = index + 1;
        }
        // A comment starts at `#` at the line start or after whitespace (a URL fragment is not one).
        let cut = raw
            .char_indices()
            .find(|&(i, c)| c == '#' && (i == 0 || raw[..i].ends_with(char::is_whitespace)))
            .map_or(raw.len(), |(i, _)| i);
        let line = &raw[..cut];
        match line.trim_end().strip_suffix('\\') {
            Some(continued) => {
                current.push_str(continued);
                current.push(' ');
            }
            None => {
                current.push_str(line);
                if !current.trim().is_empty() {
                    out.push((start, current.trim().to_string()));
                }
                current.clear();
            }
        }
    }
    if !current.trim().is_empty() {
        out.push((start, current.trim().to_string()));
    }
    out
}

/// The requirement and the ` --option` words after it.
fn split_options(line: &str) -> (&str, Vec<&str>) {
    match line.find(" --") {
        Some(at) => (line[..at].trim(), line[at..].split_whitespace().collect()),
        None => (line.trim(), Vec::new()),
    }
}

/// A PEP 508 requirement: `name[extras] specifiers ; marker` or `name[extras] @ URL ; marker`.
fn parse_requirement(text: &str) -> std::result::Result<Requirement, String> {
    let (body, marker) = match text.split_once(';') {
        Some((body, marker)) => (body.trim(), Some(marker.trim().to_string())),
        None => (text.trim(), None),
    };
    let name_end =
        body.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))).unwrap_or(body.len());
    let name = &body[..name_end];
    if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        // The offending character only: the line may be another file's secret.
        let first = body.chars().next().unwrap_or(' ');
        return Err(format!("the line begins with `{first}`, not with a package name"));
    }
    let mut rest = body[name_end..].trim_start();
    if rest.starts_with('[') {
        let close = rest.find(']').ok_or_else(|| format!("`{name}[`: the extras are never closed with `]`"))?;
        rest = rest[close + 1..].trim_start();
    }
    let specifier = rest.trim().to_string();
    let version = if specifier.starts_with('@') {
        None
    } else {
        let parts: Vec<&str> = specifier.split(',').map(str::trim).filter(|part| !part.is_empty()).collect();
        match parts.as_slice() {
            [only] => only
                .strip_prefix("===")
                .or_else(|| only.strip_prefix("==").filter(|version| !version.trim().ends_with(".*")))
                .map(|version| version.trim().to_string()),
            _ => None,
        }
    };
    for part in specifier.split(',').map(str::trim).filter(|part| !part.is_empty() && !specifier.starts_with('@')) {
        let known = ["===", "==", "!=", "~=", ">=", "<=", ">", "<"].iter().any(|op| part.starts_with(op));
        if !known {
            let first = part.chars().next().unwrap_or(' ');
            return Err(format!(
                "`{name}` is followed by `{first}`, which begins no version specifier (`==`, `>=`, `~=`, …)"
            ));
        }
    }
    Ok(Requirement {
        name: name.to_string(),
        version,
        specifier,
        marker,
        hashes: Vec::new(),
        file: String::new(),
        line: 0,
        constraint: false,
        editable: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    #[test]
    fn reads_pins_hashes_markers_extras_urls_and_includes() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "base.txt", "numpy==1.26.4 --hash=sha256:aa --hash=sha256:bb\n");
        write(dir.path(), "constraints.txt", "urllib3==2.2.1\n");
        let main = write(
            dir.path(),
            "requirements.txt",
            "# the model's runtime\n--index-url https://pypi.org/simple\n-r base.txt\n-c constraints.txt\n\
             torch==2.2.0 ; python_version >= \"3.9\"\ntransformers[torch] >=4.30,<5  # not pinned\n\
             scikit-learn===1.4.0\npandas == 2.*\nrequests \\\n    ==2.31.0\n\
             mylib @ https://example.com/mylib-1.0.tar.gz#sha256=cc\n-e ./local/pkg\n",
        );
        let requirements = read(&main, dir.path()).expect("read");
        let summary: Vec<(&str, Option<&str>, bool)> =
            requirements.iter().map(|r| (r.name.as_str(), r.version.as_deref(), r.constraint)).collect();
        assert_eq!(
            summary,
            [
                ("numpy", Some("1.26.4"), false),
                ("urllib3", Some("2.2.1"), true),
                ("torch", Some("2.2.0"), false),
                ("transformers", None, false),
                ("scikit-learn", Some("1.4.0"), false),
                ("pandas", None, false),
                ("requests", Some("2.31.0"), false),
                ("mylib", None, false),
                ("pkg", None, false),
            ]
        );
        assert_eq!(requirements[0].hashes, ["sha256:aa", "sha256:bb"]);
        assert_eq!(requirements[2].marker.as_deref(), Some("python_version >= \"3.9\""));
        assert_eq!(requirements[6].line, 9, "a continued requirement is numbered by its first line");
        assert!(requirements[8].editable);
        assert!(requirements[0].file.ends_with("requirements.txt -> base.txt"));
    }

    #[test]
    fn cycles_and_bad_lines_are_errors_naming_the_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = write(dir.path(), "a.txt", "-r b.txt\n");
        write(dir.path(), "b.txt", "-r a.txt\n");
        assert!(read(&a, dir.path()).expect_err("cycle").message.contains("includes itself"));
        let bad = write(dir.path(), "bad.txt", "torch==2.0\n%%%\n");
        let error = read(&bad, dir.path()).expect_err("bad line");
        assert!(error.message.contains("bad.txt:2"), "{}", error.message);
        let device = write(dir.path(), "device.txt", "-r /dev/zero\n");
        let error = read(&device, dir.path()).expect_err("outside");
        assert!(error.message.contains("outside the project folder"), "{}", error.message);
        let spec = write(dir.path(), "spec.txt", "torch latest\n");
        assert!(read(&spec, dir.path()).expect_err("bad specifier").message.contains("begins no version specifier"));
    }

    #[test]
    fn includes_stay_in_the_project_and_errors_quote_no_line() {
        let outer = tempfile::tempdir().expect("tempdir");
        let project = outer.path().join("project");
        std::fs::create_dir(&project).expect("mkdir");
        let secret = "root:$6$Jw4Gf0pQ$1r8V2xYzVeryLongHashThatMustNotLeak:19000:0:99999:7:::";
        write(outer.path(), "shadow", &format!("{secret}\n"));
        let main = write(&project, "requirements.txt", "-r ../shadow\n");
        let error = read(&main, &project).expect_err("outside");
        assert!(error.message.contains("outside the project folder"), "{}", error.message);
        assert!(!error.message.contains("Jw4Gf0pQ"), "{}", error.message);
        // A file given directly is read, but its bad line is quoted by its first characters only.
        let error = read(&outer.path().join("shadow"), outer.path()).expect_err("not requirements");
        assert!(!error.message.contains("VeryLongHash"), "{}", error.message);
        assert!(error.message.contains("`root` is followed by `:`"), "{}", error.message);
    }
}
