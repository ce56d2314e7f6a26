//! One renderer per output format of the one report model ([`crate::decision`]).
//!
//! Renderers only render: every number, grouping and decision is in [`Report`] before
//! a renderer sees it. The JSON rendering of [`Report`] is the documented, versioned
//! contract (`docs/report.md`).

use std::io::Write;

pub use crate::decision::*;

mod github;
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
}

/// Options that change how a report looks, not what it says.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    pub color: bool,
    /// Where the GitHub step summary goes (`$GITHUB_STEP_SUMMARY`).
    pub github_step_summary: Option<std::path::PathBuf>,
}

pub fn render(report: &Report, format: Format, options: &RenderOptions, out: &mut dyn Write) -> std::io::Result<()> {
    match format {
        Format::Text => text::render(report, options.color, out),
        Format::Json => json::render(report, out),
        Format::Junit => junit::render(report, out),
        Format::Sarif => sarif::render(report, out),
        Format::Github => github::render(report, options, out),
        Format::Markdown => markdown::render(report, out),
    }
}
