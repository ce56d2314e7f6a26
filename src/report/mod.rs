//! One renderer per output format of the one report model ([`crate::decision`]).
//!
//! Renderers only render: every number, grouping and decision is in [`Report`] before
//! a renderer sees it. The JSON rendering of [`Report`] is the documented, versioned
//! contract (`docs/report.md`).

use std::io::Write;

pub use crate::decision::*;

mod github;
pub mod html;
mod json;
mod junit;
mod markdown;
mod sarif;
pub mod sections;
mod text;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Junit,
    Sarif,
    Github,
    Markdown,
    // One self-contained page (no script, no external request), with the evidence's
    // fairness per group and drift per feature as charts. (A `///` comment here would turn
    // `--help` into the long form.)
    Html,
}

/// Options that change how a report looks, not what it says.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    pub color: bool,
    /// Where the GitHub step summary goes (`$GITHUB_STEP_SUMMARY`).
    pub github_step_summary: Option<std::path::PathBuf>,
    /// The evidence the decision judged: the HTML report draws its fairness per group and
    /// drift per feature.
    pub evidence: Option<std::sync::Arc<crate::evidence::Evidence>>,
    /// Further sections of the HTML report, each a heading and its facts (the attestation,
    /// the chain position, the replay), worked out by the caller.
    pub sections: Vec<(String, Vec<(String, String)>)>,
}

pub fn render(report: &Report, format: Format, options: &RenderOptions, out: &mut dyn Write) -> std::io::Result<()> {
    match format {
        Format::Text => text::render(report, options.color, out),
        Format::Json => json::render(report, out),
        Format::Junit => junit::render(report, out),
        Format::Sarif => sarif::render(report, out),
        Format::Github => github::render(report, options, out),
        Format::Markdown => markdown::render(report, out),
        Format::Html => html::render(report, options, out),
    }
}

/// One line for the console when the report itself went to a file: the decision, the
/// model and environment, and the counts.
pub fn verdict_line(report: &Report) -> String {
    text::verdict_line(report)
}
